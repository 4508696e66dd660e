#!/usr/bin/env bash
# Build and start pgfleetd in the foreground with its embedded defaults
# (data in ./var, API on http://127.0.0.1:9000). Extra arguments go to pgfleetd.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
make -s -j"$(nproc)"
exec build/pgfleetd "$@"
