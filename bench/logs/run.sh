#!/usr/bin/env bash
# bench/logs/run.sh - the slow-log benchmark: parse + normalise + aggregate
# 1 GB of generated csvlog slow-query lines with the daemon's own code
# (bench/logs/logbench.c over src/pg/pglog.c, src/pg/slowq.c,
# src/lib/sqlnorm.c), next to `wc -l` on the same file (the I/O floor), in
# the same run, warm cache, alternating so that both see the same machine.
#
#   bench/logs/run.sh                     # writes bench/logs/RESULTS.md
#   MB=1024 ROUNDS=5 OUT=/tmp/r.md bench/logs/run.sh
#   KEEP=/tmp/lb1g.csv bench/logs/run.sh  # reuse (or keep) the generated file
#
# Rows: `logbench scan` over the file cut into 10 MB files as the server
# rotates them (the daemon's own scan, logs_scan_split: one thread per CPU,
# a file each); logbench with read() into a buffer (pglog_reader) on 1 and
# 2 threads over the single file (split into byte ranges), and with the
# file mapped (--mmap) on 2 threads; `wc -l` on the file and on the
# rotated files. Each figure is the median of ROUNDS runs; the target
# compares the daemon's scan with `wc -l FILE`. Every run prints a checksum
# of the whole aggregate; the script fails unless all runs agree.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/logs"
MB=${MB:-1024}
ROUNDS=${ROUNDS:-5}
OUT=${OUT:-$HERE/RESULTS.md}
. "$ROOT/bench/lib.sh"
TMP=$(mktemp -d /tmp/pgfleet-logbench.XXXXXX)
FILE=${KEEP:-$TMP/slow.csv}

cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
log "building logbench (release flags, linked with build/libpgfleet.a)"
make -C "$ROOT" --no-print-directory build/libpgfleet.a >&2
PKG_LIBS=$(pkg-config --libs libmicrohttpd jansson openssl sqlite3 libevent libcurl libpq zlib)
cc -std=c17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-I"$ROOT/src" -o "$TMP/logbench" "$HERE/logbench.c" "$ROOT/build/libpgfleet.a" $PKG_LIBS -lpq -lpthread -lm

want=$((MB * 1024 * 1024))
if [ ! -s "$FILE" ] || [ "$(stat -c %s "$FILE")" -lt "$want" ]; then
	log "generating $MB MB of csvlog in $FILE"
	"$TMP/logbench" gen "$FILE" "$MB"
fi
SIZE=$(stat -c %s "$FILE")
LINES=$(wc -l <"$FILE")
log "cutting it into 10 MB files in $TMP/log (as the server writes and rotates: a write() per record)"
mkdir "$TMP/log"
"$TMP/logbench" rotate "$FILE" "$TMP/log" 10
NFILES=$(ls "$TMP/log" | wc -l)
log "warming the page cache"
for i in 1 2; do cat "$FILE" "$TMP"/log/*.csv >/dev/null; done

# seconds of one command (wall), from bash's own clock
timed() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >"$TMP/last.out"
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}'
}

declare -A RUNS
names=(wc wcdir scan read1 read2 mmap2)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$ROUNDS"); do
	log "round $r/$ROUNDS"
	RUNS[wc]+=" $(timed wc -l "$FILE")"
	RUNS[wcdir]+=" $(timed wc -l "$TMP"/log/*.csv)"
	RUNS[scan]+=" $(timed "$TMP/logbench" scan "$TMP/log")"
	cp "$TMP/last.out" "$TMP/scan.json"
	grep -o '"checksum": "[0-9a-f]*"' "$TMP/last.out" >>"$TMP/sums"
	RUNS[read1]+=" $(timed "$TMP/logbench" run "$FILE" 1)"
	cp "$TMP/last.out" "$TMP/read1.json"
	grep -o '"checksum": "[0-9a-f]*"' "$TMP/last.out" >>"$TMP/sums"
	RUNS[read2]+=" $(timed "$TMP/logbench" run "$FILE" 2)"
	cp "$TMP/last.out" "$TMP/read2.json"
	grep -o '"checksum": "[0-9a-f]*"' "$TMP/last.out" >>"$TMP/sums"
	RUNS[mmap2]+=" $(timed "$TMP/logbench" run "$FILE" 2 --mmap)"
	cp "$TMP/last.out" "$TMP/mmap2.json"
	grep -o '"checksum": "[0-9a-f]*"' "$TMP/last.out" >>"$TMP/sums"
done
# every run must have computed the same aggregate (see lb_checksum)
if [ "$(sort -u "$TMP/sums" | wc -l)" -ne 1 ]; then
	log "the runs disagree on the aggregate:"
	sort "$TMP/sums" | uniq -c >&2
	exit 1
fi
SUM=$(sort -u "$TMP/sums" | sed 's/.*: "\(.*\)"/\1/')
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mbps() { awk -v b="$SIZE" -v s="$1" 'BEGIN {printf "%.0f", b / 1048576 / s}'; }
declare -A MED MIN
for n in "${names[@]}"; do
	MED[$n]=$(echo "${RUNS[$n]}" | median)
	MIN[$n]=$(echo "${RUNS[$n]}" | tr ' ' '\n' | grep -v '^$' | sort -g | head -1)
done
RATIO=$(awk -v a="${MED[scan]}" -v b="${MED[wcdir]}" 'BEGIN {printf "%.2f", a / b}')
RATIO_FILE=$(awk -v a="${MED[read2]}" -v b="${MED[wc]}" 'BEGIN {printf "%.2f", a / b}')
MET=$(awk -v r="$RATIO" 'BEGIN {print (r <= 3.0) ? "met" : "NOT met"}')
check=$(cat "$TMP/scan.json")
WORKERS=$(grep -o '"workers": [0-9]*' "$TMP/scan.json" | grep -o '[0-9]*$')

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
NCPU=$(nproc)
MEM=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)

row() { # NAME FLOOR LABEL: FLOOR is the wc row that read the same files
	local med=${MED[$1]}
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$3" "$med" "$(mbps "$med")" \
		"$(awk -v a="$med" -v b="${MED[$2]}" 'BEGIN {printf "%.2f", a / b}')" "${MIN[$1]}" \
		"$(awk -v a="${MIN[$1]}" -v b="${MIN[$2]}" 'BEGIN {printf "%.2f", a / b}')" "$(echo "${RUNS[$1]}" | sed 's/^ //')"
}

{
	echo "# Slow-log benchmark: parse + normalise + aggregate vs wc -l"
	echo
	echo "Generated by \`bench/logs/run.sh\` (do not edit by hand; re-run it)."
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "- Commit: $REV$DIRTY"
	echo "- Machine: $NCPU cores ($CPU), $MEM RAM, $(uname -sr)"
	echo "- Load average before / after: $LOAD_BEFORE / $LOAD_AFTER (the machine is shared with other work; rows alternate so that they see the same load, and the table shows medians)"
	echo "- Input: $SIZE bytes, $LINES lines of generated PostgreSQL 15 csvlog (\`logbench gen\`): 9 in 10 records a slow statement (12 statement shapes: literals of every kind, IN lists of 1-20 items, quoted identifiers, multi-line text, comments, extended-protocol \`execute <unnamed>\` with its parameters detail), 1 in 10 an error"
	echo "- Each run: read every record (the columns up to \`message\` split, the rest scanned for the record's end: \`pglog_parse_head\`), recognise the slow statements, normalise them (\`sqlnorm_cached\`: the shape cache, then the SSE2 tokenizer), group by (user, database, normalised query) with counts and total/min/max durations, start/end times and duration segments: the work of \`DescribeSlowQueryAnalysis\`"
	echo "- \`logbench scan\` runs the daemon's own scan (\`logs_scan_split\` in src/api/logs.c, as \`DescribeSlowQueryAnalysis\` calls it) over the same bytes cut into $NFILES files of 10 MB at record ends and written a record at a time (\`logbench rotate\`, as the server's line-buffered log file is written and rotated), $WORKERS worker threads here (one per CPU); one run: \`$check\`"
	echo "- Every run ($((4 * ROUNDS)) of them: the daemon's scan, 1 and 2 threads, read and mmap) printed the same aggregate checksum \`$SUM\` (\`lb_checksum\` in logbench.c: keys, texts, counts, min/max durations to the bit, total to the microsecond, times, clients of every group)"
	echo
	echo "Command: \`MB=$MB ROUNDS=$ROUNDS bench/logs/run.sh\`"
	echo
	echo "## Target"
	echo
	echo "| target | measured (medians) | |"
	echo "|---|---|---|"
	echo "| parse + aggregate within 3x of \`wc -l\` on the same files | the daemon's scan ${MED[scan]} s vs \`wc -l\` ${MED[wcdir]} s on the rotated files = ${RATIO}x | $MET |"
	echo "| (the same over the single file) | \`logbench run FILE 2\` ${MED[read2]} s vs \`wc -l FILE\` ${MED[wc]} s = ${RATIO_FILE}x | |"
	echo
	echo "## Runs (wall seconds, warm cache)"
	echo
	echo "Each row against the \`wc -l\` that read the same files (the page cache reads some files faster than"
	echo "others of the same bytes, by how they were written and how long they have been cached). The target"
	echo "uses medians; the minimums show the runs least disturbed by the machine's other work."
	echo
	echo "| run | median s | MB/s | x its wc -l | min s | x its wc -l (mins) | all runs |"
	echo "|---|---|---|---|---|---|---|"
	row wcdir wcdir "\`wc -l DIR/*.csv\` (the I/O floor over the rotated files)"
	row scan wcdir "\`logbench scan DIR\` (the daemon's scan: logs_scan_split, $WORKERS threads)"
	row wc wc "\`wc -l FILE\` (the I/O floor over the single file)"
	row read1 wc "\`logbench run FILE 1\` (read(), 1 thread)"
	row read2 wc "\`logbench run FILE 2\` (read(), 2 threads)"
	row mmap2 wc "\`logbench run FILE 2 --mmap\` (mapped, 2 threads)"
	echo
	cat "$HERE/NOTES.md"
} >"$OUT"
log "wrote $OUT"
cat "$OUT" >&2
