#!/usr/bin/env bash
# bench/instances/run.sh - how long CreateInstances takes until the first
# query succeeds on the new instance's address, next to the raw floor
# measured in the same run, and how much memory an idle instance costs.
#
#   bench/instances/run.sh                  # writes bench/instances/RESULTS.md
#   N=10 IDLE_S=10 BURST=5 OUT=/tmp/r.md bench/instances/run.sh
#
# What it does (as root: servers run as the system user `pgfleet`):
#   1. builds the release daemon (make build/pgfleetd);
#   2. starts it on a free loopback port with a fresh data dir (mode 0711)
#      and a private address range 127.251.B.1-254 (B random);
#   3. runs bench.mjs: one warm-up creation (builds the UTF8 template), then
#      N rounds of [CreateInstances -> running -> first query], floor a
#      [initdb + pg_ctl start -w + first query], floor b [cp -a of an
#      initdb'd PGDATA + pg_ctl start -w + first query] and floor c [cp -a +
#      postgres directly + connect retried every 2 ms] and floor d [as c with
#      the copy made before the clock starts], the floors as
#      `pgfleet` in the same temp dir on 127.252.B.x; then BURST creations
#      back to back; then, after IDLE_S seconds, PSS/RSS of every instance's
#      process tree;
#   4. writes the figures, the verdict, the machine and the commands to OUT.
# Everything it starts is stopped on exit: the daemon by SIGTERM (which stops
# its servers), then any PostgreSQL process left under the temp dir by PID.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/instances"
N=${N:-10}
IDLE_S=${IDLE_S:-10}
BURST=${BURST:-5}
OUT=${OUT:-$HERE/RESULTS.md}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
NODE_USER=pgfleet
. "$ROOT/bench/lib.sh"
TMP=$(mktemp -d /tmp/pgfleet-bench-inst.XXXXXX)
DAEMON_PID=""

cleanup() {
	bench_stop_all "$TMP/data"
	rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() { # PORT PID
	for _ in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		kill -0 "$2" 2>/dev/null || { echo "pgfleetd died before listening on $1" >&2; return 1; }
		sleep 0.05
	done
	echo "nothing listening on 127.0.0.1:$1" >&2
	return 1
}

[ "$(id -u)" = 0 ] || { echo "run as root (the servers run as the system user $NODE_USER)" >&2; exit 1; }
[ -d "$ROOT/tests/e2e/node_modules/pg" ] || { echo "run (cd tests/e2e && npm ci) first: bench.mjs uses its SDK and pg" >&2; exit 1; }

# ---- build ----
log "building the release daemon"
make -C "$ROOT" -s build/pgfleetd >&2

# ---- daemon ----
B=$((RANDOM % 256))
chmod 0711 "$TMP"
DATA="$TMP/data"
PORT=$(free_port)
cat >"$TMP/config.json" <<EOF
{"vip_first": "127.251.$B.1", "vip_last": "127.251.$B.254"}
EOF
DAEMON_CMD=("$ROOT/build/pgfleetd" --data-dir "$DATA" --listen "127.0.0.1:$PORT" --config "$TMP/config.json" --log-level warn)
log "starting ${DAEMON_CMD[*]}"
"${DAEMON_CMD[@]}" 2>"$TMP/pgfleetd.log" &
DAEMON_PID=$!
wait_port "$PORT" "$DAEMON_PID"
for _ in $(seq 1 100); do [ -f "$DATA/credentials.json" ] && break; sleep 0.05; done

# ---- measure ----
BENCH_CMD=(node "$HERE/bench.mjs" --endpoint "127.0.0.1:$PORT" --credentials "$DATA/credentials.json"
	--data-dir "$DATA" --floor-dir "$TMP/floor" --floor-net "127.252.$B" --user "$NODE_USER"
	--bin "$PGBIN" --n "$N" --idle-s "$IDLE_S" --burst "$BURST")
log "measuring: ${BENCH_CMD[*]}"
"${BENCH_CMD[@]}" >"$TMP/result.json"
log "daemon warnings/errors: $(grep -c . "$TMP/pgfleetd.log" || true) lines"

# ---- report ----
export TMP OUT N IDLE_S PGBIN
export DAEMON_LINE="${DAEMON_CMD[*]}"
export BENCH_LINE="${BENCH_CMD[*]}"
export PG_VERSION_LINE="$("$PGBIN/postgres" --version)"
export CPU_LINE="$(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
export MEM_LINE="$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
export KERNEL_LINE="$(uname -r)"
export FS_LINE="$(df -T "$TMP" | awk 'NR==2 {print $2 " on " $1}')"
export REV_LINE="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
python3 - <<'PY'
import json, os

r = json.load(open(os.path.join(os.environ["TMP"], "result.json")))
d = r["pgfleetd"]["create_to_first_query"]
run_ = r["pgfleetd"]["create_to_running"]
acc = r["pgfleetd"]["create_accepted"]
bb = r["pgfleetd"].get("back_to_back_first_query")
fa, fb, fc = r["floor_a_initdb_start_query"], r["floor_b_copy_start_query"], r["floor_c_copy_postgres_query"]
fd = r["floor_d_precopied_postgres_query"]
floor = min(fa["median"], fb["median"])
floor_name = "a" if fa["median"] <= fb["median"] else "b"
ratio = d["median"] / floor
ok_abs = d["median"] < 500
ok_rel = ratio <= 1.5
pss = r["idle"]["pss_kb"]["median"]
rss = r["idle"]["rss_kb"]["median"]
total_kib = 24 * 1024 * 1024
reserve_kib = 2 * 1024 * 1024  # OS, page cache floor, the daemon
fit = (total_kib - reserve_kib) // max(pss, 1)

def row(name, s):
    return f"| {name} | {s['median']:.0f} | {s['min']:.0f} | {s['p90']:.0f} | {s['max']:.0f} |"

def samples(s):
    return ", ".join(f"{x:.0f}" for x in s["samples"])

out = f"""# Instance creation benchmark

Generated by `bench/instances/run.sh` on {r['date']} (UTC), revision {os.environ['REV_LINE']}.

Machine: {os.environ['CPU_LINE']}, {os.environ['MEM_LINE']} RAM, Linux {os.environ['KERNEL_LINE']},
temp dir on {os.environ['FS_LINE']}; {os.environ['PG_VERSION_LINE']}.
Load average at start {', '.join(f'{x:.2f}' for x in r['loadavg_start'])}, at the end of the timed rounds
{', '.join(f'{x:.2f}' for x in r['loadavg_end'])} (the machine is shared: other builds, fuzzers and
benchmarks may have been running; the rounds are interleaved so that they hit every column alike).

## Time to the first query (ms, {r['n']} samples each, steady state)

Steady state: one warm-up creation ran first ({r['cold_first_creation_ms']:.0f} ms; the daemon starts
building the UTF8 template and its spare copies at start-up, and this first creation waits for or
does that work); the floors had one untimed warm-up each. Each timed creation takes one of the
template's spare copies (a rename instead of a copy); the creation task refills the spares after the
instance runs. In the interleaved rounds the floors run between two creations (about 1.5 s), so the
spare is back before the next creation; the back-to-back row shows creations without that pause.

| path | median | min | p90 | max |
|---|---|---|---|---|
{row("pgfleetd: CreateInstances -> first SELECT 1 over the instance's address", d)}
{row("pgfleetd: CreateInstances -> DescribeDBInstanceAttribute says running", run_)}
{row("pgfleetd: CreateInstances answered", acc)}
{row("pgfleetd, back to back (no pause between creations)", bb) if bb else ""}
{row("floor a: initdb + pg_ctl start -w + first query", fa)}
{row("floor b: cp -a of an initdb'd PGDATA + pg_ctl start -w + first query", fb)}
{row("floor c (reference): cp -a + postgres + connect retried every 2 ms", fc)}
{row("floor d (reference): copy made beforehand (untimed) + postgres + connect retried every 2 ms", fd)}

Samples in order (ms): pgfleetd {samples(d)}; floor a {samples(fa)}; floor b {samples(fb)}; floor c {samples(fc)}; floor d {samples(fd)}{"; back to back " + samples(bb) if bb else ""}.

The client polls DescribeDBInstanceAttribute every {r['poll_ms']} ms, then connects as the admin
(scram-sha-256) and runs `SELECT 1`; floors connect the same way with the same client (node-postgres).

**Target** (median < 500 ms and within 1.5x of the faster of floors a and b):
median {d['median']:.0f} ms {'<' if ok_abs else '>='} 500 ms: **{'met' if ok_abs else 'NOT met'}**;
{d['median']:.0f} / {floor:.0f} ms (floor {floor_name}) = **{ratio:.2f}x**: **{'met' if ok_rel else 'NOT met'}**.
Against the tighter floor c: {d['median'] / fc['median']:.2f}x. Against floor d, which like pgfleetd
does not copy on the critical path: {d['median'] / fd['median']:.2f}x ({d['median'] - fd['median']:.0f} ms of API, task,
configuration and account work on top of starting a server and connecting).

## Memory of an idle instance

{r['idle']['instances']} instances (spec cdb.pg.z1.2g: shared_buffers 512 MB, max_connections 128), idle for
{r['idle']['idle_s']} s after the timed rounds, {r['idle']['processes_per_instance']} processes each (postmaster + children).
From `/proc/<pid>/smaps_rollup` summed over each postmaster's process tree:

| | median | min | max |
|---|---|---|---|
| PSS (MiB) | {pss/1024:.1f} | {r['idle']['pss_kb']['min']/1024:.1f} | {r['idle']['pss_kb']['max']/1024:.1f} |
| RSS (MiB) | {rss/1024:.1f} | {r['idle']['rss_kb']['min']/1024:.1f} | {r['idle']['rss_kb']['max']/1024:.1f} |

Estimate for a 24 GiB machine, keeping 2 GiB for the OS and the daemon: (24 - 2) GiB / {pss/1024:.1f} MiB
PSS = **about {fit} idle instances** by memory. This counts only pages touched while idle: shared_buffers
(512 MB per 2 GB instance) is mapped but not touched until used, so the figure holds for idle instances
only; 24 GiB hold {(total_kib - reserve_kib) // (512 * 1024)} instances whose shared_buffers are full, and
{(total_kib - reserve_kib) // (2048 * 1024)} if each used its whole 2 GB spec.

## Commands

    {os.environ['DAEMON_LINE']}
    {os.environ['BENCH_LINE']}

Floors (as `pgfleet`, cwd the floor dir, one 127.252.B.x address per sample):

    initdb -D DIR -U bench_admin --pwfile=pw -A scram-sha-256 -E UTF8 --locale=C --no-instructions
    pg_ctl -D DIR -w -l DIR.log -o "-c listen_addresses=IP -c port=5432 -c unix_socket_directories=''" start
    cp -a PREPARED DIR                    # floors b, c, d; PREPARED made by the initdb above (d: before the clock)
    postgres -D DIR -c listen_addresses=IP -c port=5432 -c unix_socket_directories=   # floors c, d
    pg_ctl -D DIR -m immediate -w stop    # after each floor sample (not timed)
"""
open(os.environ["OUT"], "w").write(out)
print(out)
PY
log "wrote $OUT"
