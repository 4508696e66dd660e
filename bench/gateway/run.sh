#!/usr/bin/env bash
# bench/gateway/run.sh - the gateway benchmark: pgfleetd next to nginx, same
# machine, same client, one run.
#
#   bench/gateway/run.sh            # writes bench/gateway/RESULTS.md
#   DURATION=20 THROUGHPUT_DURATION=10 RATE=1000 CONNS=32 REPEAT=3 WRK_DURATION=10 OUT=/tmp/r.md bench/gateway/run.sh
#   PROFILE=1 bench/gateway/run.sh  # adds a perf profile of pgfleetd under load
#
# What it does:
#   1. builds the release daemon (make build/pgfleetd build/libpgfleet.a) and
#      bench/gateway/loadgen.c, linked with build/libpgfleet.a so requests are
#      signed by the project's own sign_tc3_authorization();
#   2. starts pgfleetd twice on loopback ports with fresh data dirs: "nolimit"
#      with {"rate_limit": 0} for the throughput runs, "limits" with the default
#      per-action limits for the fixed-rate run;
#   3. starts nginx (Debian nginx-light, master in the foreground, 2 workers,
#      temp config) serving a static JSON file of exactly the DescribeRegions
#      response size over keep-alive; POST is served through
#      `error_page 405 =200` since nginx's static module refuses POST;
#   4. loadgen closed loop (max throughput), then open loop at RATE req/s for
#      DURATION s (latency from the scheduled send time), each REPEAT times,
#      alternating nginx and pgfleetd; then wrk as a cross-check against both;
#   5. writes the figures, the machine and the exact commands to OUT.
# Everything it starts is stopped on exit (by PID). Only 127.0.0.1 is used.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/gateway"
DURATION=${DURATION:-20}
THROUGHPUT_DURATION=${THROUGHPUT_DURATION:-10}
RATE=${RATE:-1000}
CONNS=${CONNS:-32}
REPEAT=${REPEAT:-3}
WRK_DURATION=${WRK_DURATION:-10}
OUT=${OUT:-$HERE/RESULTS.md}
. "$ROOT/bench/lib.sh"
TMP=$(mktemp -d /tmp/pgfleet-bench.XXXXXX)
chmod 0711 "$TMP" # the daemon refuses a data dir its servers' users cannot reach
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# ---- build ----
# PGFLEETD_BIN / LIBPGFLEET point at a prebuilt release daemon and library
# instead (then nothing is built with make).
PGFLEETD_BIN=${PGFLEETD_BIN:-}
LIBPGFLEET=${LIBPGFLEET:-$ROOT/build/libpgfleet.a}
if [ -z "$PGFLEETD_BIN" ]; then
	log "building the release daemon"
	make -C "$ROOT" --no-print-directory build/pgfleetd build/libpgfleet.a >&2
	PGFLEETD_BIN="$ROOT/build/pgfleetd"
fi
log "building loadgen"
PKG_LIBS=$(pkg-config --libs libmicrohttpd jansson openssl sqlite3 libevent libcurl libpq)
cc -std=c17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-I"$ROOT/src" -o "$TMP/loadgen" "$HERE/loadgen.c" "$LIBPGFLEET" $PKG_LIBS -lpq -lpthread -lm
LOADGEN="$TMP/loadgen"

# ---- pgfleetd x2 ----
start_pgfleetd() { # NAME CONFIG_JSON -> sets PORT_<NAME>, CRED_<NAME>
	local name=$1 cfg=$2 port dir
	port=$(free_port)
	dir="$TMP/data-$name"
	mkdir -p "$dir"
	printf '%s\n' "$cfg" >"$TMP/$name.json"
	"$PGFLEETD_BIN" --data-dir "$dir" --listen "127.0.0.1:$port" --config "$TMP/$name.json" \
		--log-level warn 2>"$TMP/$name.log" &
	PIDS+=($!)
	printf -v "PID_$name" '%s' "$!"
	wait_port "$port" $!
	for _ in $(seq 1 100); do [ -s "$dir/credentials.json" ] && break; sleep 0.05; done
	printf -v "PORT_$name" '%s' "$port"
	printf -v "CRED_$name" '%s' "$dir/credentials.json"
}
log "starting pgfleetd (rate_limit 0) and pgfleetd (default limits)"
start_pgfleetd nolimit '{"rate_limit": 0}'
start_pgfleetd limits '{}'

# ---- the DescribeRegions response, as nginx's static file ----
signed_curl() { # PORT CRED ACTION -> response body
	local hdrs=()
	while IFS=$'\t' read -r k v; do hdrs+=(-H "$k: $v"); done < <("$LOADGEN" --port "$1" --credentials "$2" --action "$3" --print-headers)
	curl -sS --max-time 5 -X POST "${hdrs[@]}" --data-binary '{}' "http://127.0.0.1:$1/"
}
mkdir -p "$TMP/www"
signed_curl "$PORT_nolimit" "$CRED_nolimit" DescribeRegions >"$TMP/www/regions.json"
grep -q '"RegionSet"' "$TMP/www/regions.json" || { echo "DescribeRegions failed: $(cat "$TMP/www/regions.json")" >&2; exit 1; }
RESP_BYTES=$(wc -c <"$TMP/www/regions.json")
chmod a+rx "$TMP" "$TMP/www" && chmod a+r "$TMP/www/regions.json" # nginx workers may run as nobody
VERSIONS_BYTES=$(signed_curl "$PORT_nolimit" "$CRED_nolimit" DescribeDBVersions | wc -c)

# ---- nginx ----
NGINX_PORT=$(free_port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $TMP/nginx/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $TMP/nginx/body;
	proxy_temp_path $TMP/nginx/proxy;
	fastcgi_temp_path $TMP/nginx/fastcgi;
	uwsgi_temp_path $TMP/nginx/uwsgi;
	scgi_temp_path $TMP/nginx/scgi;
	keepalive_requests 10000000;
	keepalive_timeout 60s;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		root $TMP/www;
		default_type application/json;
		location = / { error_page 405 =200 /regions.json; try_files /regions.json =404; }
		location = /regions.json { }
	}
}
EOF
log "starting nginx on $NGINX_PORT"
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" 2>"$TMP/nginx.log" &
PIDS+=($!)
wait_port "$NGINX_PORT" $!
NGINX_BYTES=$(curl -sS -X POST -H 'Content-Type: application/json' --data-binary '{}' "http://127.0.0.1:$NGINX_PORT/" | wc -c)
[ "$NGINX_BYTES" = "$RESP_BYTES" ] || { echo "nginx serves $NGINX_BYTES bytes, want $RESP_BYTES" >&2; exit 1; }

# ---- runs ----
# Closed-loop and open-loop runs alternate nginx / pgfleetd REPEAT times so
# that noise from other work on the machine hits both alike; the targets use
# the medians.
CMDS=()
: >"$TMP/results.jsonl"
run_loadgen() { # GROUP LABEL ARGS...
	local group=$1 label=$2
	shift 2
	local cmd=("$LOADGEN" --label "$label" "$@")
	log "${cmd[*]}"
	local q
	q=$(printf '%q ' "${cmd[@]:1}")
	CMDS+=("loadgen ${q//$TMP/\$TMP}")
	local out
	out=$("${cmd[@]}") || { echo "$out" >&2; echo "loadgen failed for $label" >&2; exit 1; }
	echo "$out" >&2
	printf '{"group":"%s",%s\n' "$group" "$(grep '^JSON ' <<<"$out" | cut -c7-)" >>"$TMP/results.jsonl"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# Other processes busy right before the runs (instantaneous %CPU over 1 s).
BUSY=$(top -b -n2 -d1 -o %CPU | awk '/^top -/{n++} n==2 && $1 ~ /^[0-9]+$/ && $9+0 > 5 {printf "%s %s%%, ", $12, $9}')
BUSY=${BUSY%, }
T=(--duration "$THROUGHPUT_DURATION" --warmup 2 --connections "$CONNS")
R=(--duration "$DURATION" --warmup 2 --connections "$CONNS" --rate "$RATE")
for i in $(seq 1 "$REPEAT"); do
	run_loadgen nginx-closed "nginx closed-loop #$i" --port "$NGINX_PORT" --credentials "$CRED_nolimit" \
		--action DescribeRegions "${T[@]}"
	run_loadgen pgfleetd-closed "pgfleetd closed-loop DescribeRegions #$i" --port "$PORT_nolimit" \
		--credentials "$CRED_nolimit" --action DescribeRegions "${T[@]}"
done
run_loadgen pgfleetd-closed-mix "pgfleetd closed-loop DescribeRegions+DescribeDBVersions" --port "$PORT_nolimit" \
	--credentials "$CRED_nolimit" --action DescribeRegions --action DescribeDBVersions "${T[@]}"
for i in $(seq 1 "$REPEAT"); do
	run_loadgen nginx-open "nginx open-loop #$i" --port "$NGINX_PORT" --credentials "$CRED_limits" \
		--action DescribeRegions "${R[@]}"
	run_loadgen pgfleetd-open "pgfleetd open-loop, limits on #$i" --port "$PORT_limits" --credentials "$CRED_limits" \
		--action DescribeRegions --action DescribeDBVersions "${R[@]}"
done

# ---- wrk cross-check (closed loop; wrk's latency suffers coordinated omission) ----
: >"$TMP/wrk.md"
run_wrk() { # LABEL PORT CRED
	local lua="$TMP/wrk-$2.lua"
	{
		echo 'wrk.method = "POST"'
		echo 'wrk.body = "{}"'
		"$LOADGEN" --port "$2" --credentials "$3" --action DescribeRegions --print-headers |
			while IFS=$'\t' read -r k v; do printf 'wrk.headers["%s"] = "%s"\n' "$k" "$v"; done
	} >"$lua"
	local cmd=(wrk -t1 -c"$CONNS" -d"${WRK_DURATION}s" --latency -s "$lua" "http://127.0.0.1:$2/")
	log "${cmd[*]}"
	CMDS+=("wrk -t1 -c$CONNS -d${WRK_DURATION}s --latency -s \$TMP/<signed POST DescribeRegions>.lua http://127.0.0.1:<port>/   # $1")
	printf '### wrk: %s\n\n```\n%s\n```\n\n' "$1" "$("${cmd[@]}")" >>"$TMP/wrk.md"
}
run_wrk "nginx" "$NGINX_PORT" "$CRED_nolimit"
run_wrk "pgfleetd (rate_limit 0)" "$PORT_nolimit" "$CRED_nolimit"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- optional profile: an extra closed-loop run, not in the figures ----
: >"$TMP/profile.txt"
if [ "${PROFILE:-0}" = 1 ] && command -v perf >/dev/null; then
	log "profiling pgfleetd under closed-loop load"
	"$LOADGEN" --port "$PORT_nolimit" --credentials "$CRED_nolimit" --action DescribeRegions \
		--duration 8 --warmup 0 --connections "$CONNS" >/dev/null &
	LG=$!
	sleep 2
	perf record -q -F 499 -g -p "$PID_nolimit" -o "$TMP/perf.data" -- sleep 5 >/dev/null 2>&1 || true
	wait "$LG" || true
	perf report -i "$TMP/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
		awk '/^ +[0-9.]+%/ && n++ < 25' >"$TMP/profile.txt" || true
fi

# ---- report ----
printf '%s\n' "${CMDS[@]}" >"$TMP/commands.txt"
{
	echo "# Gateway benchmark: pgfleetd vs nginx"
	echo
	echo "Generated by \`bench/gateway/run.sh\` (do not edit by hand; re-run it)."
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "- Commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "- Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/{print $2}') GiB RAM, Linux $(uname -r); client, pgfleetd and nginx share the 2 cores"
	echo "- Load average before / after: $LOAD_BEFORE / $LOAD_AFTER; other processes using CPU at the start: ${BUSY:-none}. The machine is shared with other work: figures vary from run to run, which is why nginx and pgfleetd alternate and the targets use medians."
	echo "- pgfleetd: release build (\`make\`, -O2), http_threads 2 (default); nginx $(nginx -v 2>&1 | cut -d/ -f2), worker_processes 2, static file"
	echo "- Request: POST / TC3-HMAC-SHA256-signed (by the project's sign_tc3_authorization), body \`{}\`, keep-alive, one request in flight per connection"
	echo "- Response sizes: DescribeRegions $RESP_BYTES bytes (nginx serves a file of the same size), DescribeDBVersions $VERSIONS_BYTES bytes"
	echo
	echo "Command: \`DURATION=$DURATION THROUGHPUT_DURATION=$THROUGHPUT_DURATION RATE=$RATE CONNS=$CONNS REPEAT=$REPEAT WRK_DURATION=$WRK_DURATION PROFILE=${PROFILE:-0} bench/gateway/run.sh\`"
	echo
	python3 - "$TMP/results.jsonl" "$RATE" "$THROUGHPUT_DURATION" "$DURATION" "$TMP/commands.txt" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rate, tdur, odur = sys.argv[2], sys.argv[3], sys.argv[4]
by = {}
for r in rows:
    by.setdefault(r["group"], []).append(r)
med = lambda g, k: statistics.median(x[k] for x in by[g])
errs = lambda r: r["api_errors"] + r["http_errors"] + r["io_errors"] + r.get("unfinished", 0)
ng, pg = med("nginx-closed", "rps"), med("pgfleetd-closed", "rps")
p99 = med("pgfleetd-open", "p99_ms")
p99max = max(x["p99_ms"] for x in by["pgfleetd-open"])
oerr = sum(errs(x) for x in by["pgfleetd-open"])
print("## Targets\n")
print("| target | measured (median of the runs) | |")
print("|---|---|---|")
print(f"| p99 < 5 ms at {rate} req/s (open loop, limits on, no errors) | p99 {p99:.2f} ms (worst run {p99max:.2f} ms), {oerr} errors | {'met' if p99 < 5 and oerr == 0 else 'NOT met'} |")
print(f"| pgfleetd throughput >= 1/3 of nginx | {pg:.0f} vs {ng:.0f} req/s = {pg / ng:.2f} | {'met' if 3 * pg >= ng else 'NOT met'} |")
print("\n## loadgen (bench/gateway/loadgen.c)\n")
print(f"Closed loop: {tdur} s measured after 2 s warm-up. Open loop: {rate} req/s for {odur} s after 2 s warm-up, latency from the scheduled send time (no coordinated omission). Latencies in ms.\n")
print("| run | conns | req/s | p50 | p90 | p99 | p99.9 | max | ok | errors |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['label']} | {r['conns']} | {r['rps']:.0f} | {r['p50_ms']:.3f} | {r['p90_ms']:.3f} | {r['p99_ms']:.3f} | {r['p999_ms']:.3f} | {r['max_ms']:.3f} | {r['ok']} | {errs(r)} |")
print("\nMedians:\n")
print("| group | runs | req/s | p50 | p99 |")
print("|---|---|---|---|---|")
for g in by:
    print(f"| {g} | {len(by[g])} | {med(g, 'rps'):.0f} | {med(g, 'p50_ms'):.3f} | {med(g, 'p99_ms'):.3f} |")
print("\nCommands, in order ($TMP is the run's temp dir; ports are picked free at run time):\n")
print("```")
print(open(sys.argv[5]).read().rstrip())
print("```\n")
PY
	if [ -s "$TMP/profile.txt" ]; then
		echo "## Where pgfleetd spends its CPU (perf, an extra closed-loop DescribeRegions run, 5 s, self time)"
		echo
		echo '```'
		cat "$TMP/profile.txt"
		echo '```'
		echo
	fi
	echo "## wrk cross-check (-t1 -c$CONNS, ${WRK_DURATION}s, closed loop; wrk's latencies suffer coordinated omission)"
	echo
	cat "$TMP/wrk.md"
} >"$OUT"
log "wrote $OUT"
cat "$OUT"
