#!/usr/bin/env bash
# Install the Debian packages pgfleet needs, only those missing.
#   scripts/deps.sh build   - to build and run the service
#   scripts/deps.sh test    - plus what the tests need (cmocka, clang, node)
#   scripts/deps.sh bench   - plus nginx and wrk for the benchmarks
set -euo pipefail
want=(make gcc pkg-config libmicrohttpd-dev libjansson-dev libssl-dev libsqlite3-dev libevent-dev
      libcurl4-openssl-dev libpq-dev postgresql-15 postgresql-client-15 postgresql-server-dev-15)
case "${1:-build}" in
  test)  want+=(libcmocka-dev clang libclang-rt-14-dev python3 git) ;;
  bench) want+=(libcmocka-dev nginx-light wrk) ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${1:-build}" = test ] && ! command -v node >/dev/null; then missing+=(nodejs npm); fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}
