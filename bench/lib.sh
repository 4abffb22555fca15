# bench/lib.sh — what bench/load.sh, bridge.sh and cluster.sh share.
# Sourced after a script has set BENCH (this folder) and OUT; not run.

# PIDS is every process a script starts; stop_all, on any exit, sends them
# SIGTERM newest first (so a load generator stops before what it loads),
# then waits up to 5 s for each before SIGKILL.
PIDS=()
stop_all() {
	local pid i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		kill -TERM "${PIDS[i]}" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait_gone "$pid" 50
		kill -KILL "$pid" 2>/dev/null || true
	done
}

# wait_gone PID TENTHS: waits until PID has exited, up to TENTHS/10 s.
wait_gone() {
	for _ in $(seq "$2"); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
}

# usage prints the script's header comment (its usage) and exits 2.
usage() {
	awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"
	exit 2
}

# need_fds N WHAT: raises the open-files limit to the hard one and stops
# the script when that is still under N.
need_fds() {
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$1" ]; then
		echo "$(basename "$0"): ulimit -n $(ulimit -n) is too low for $2" >&2
		exit 1
	fi
}

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

# status KEY: a number from rtppeer's status file.
status() { awk -v k="$1" '$1 == k {print $2}' "$OUT/peer.status" 2>/dev/null || true; }
