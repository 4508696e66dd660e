# bench/lib.sh - what the benchmark scripts share: sourced, not run.
# They set TMP (their temp dir) and DAEMON_PID before these are used.

log() { printf '== %s\n' "$*" >&2; }

# pids of the processes started under $TMP (servers, tools) and their children
tmp_postgres_pids() {
	local roots
	roots=$(pgrep -f -- "$TMP/" || true)
	for p in $roots; do
		[ "$p" = "$$" ] && continue
		echo "$p"
		pgrep -P "$p" || true
	done
}

# Each instance runs as its own OS user pgf_<id>: remove those of data dir $1.
remove_instance_users() {
	local n
	for n in "$1"/nodes/postgres-*-1; do
		[ -d "$n" ] || continue
		n=${n##*/postgres-}
		userdel "pgf_${n%-1}" 2>/dev/null || true
	done
}

# Stop the daemon (SIGTERM stops its servers), kill what is left under $TMP,
# remove the instances' OS users of data dir $1.
bench_stop_all() {
	if [ -n "${DAEMON_PID:-}" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	local left
	left=$(tmp_postgres_pids | sort -u)
	if [ -n "$left" ]; then
		log "killing leftover PostgreSQL processes: $(echo $left)"
		for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
	fi
	remove_instance_users "$1"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Wait until PORT accepts connections while process PID lives.
wait_port() { # PORT PID
	for _ in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		kill -0 "$2" 2>/dev/null || { echo "pgfleetd died before listening on $1" >&2; return 1; }
		sleep 0.05
	done
	echo "nothing listening on 127.0.0.1:$1" >&2
	return 1
}
