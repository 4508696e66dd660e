#!/usr/bin/env bash
# Run every test: lint, unit tests under ASan/UBSan, a short fuzz run, and the
# end-to-end suite against the real daemon (sanitizer build) and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
jobs="$(nproc)"
make -s -j"$jobs" all build/pgfleetd-san
make -s lint gen-check
make -s -j"$jobs" unit
make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
make -s e2e
echo "all tests passed"
