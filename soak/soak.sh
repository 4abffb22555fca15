#!/usr/bin/env bash
# soak/soak.sh — kefu's soak test on loopback (see soak/README.md).
#
# Runs the real kefu with its default configuration and has sipp keep N
# calls up at all times for DURATION: each call lasts HOLD seconds (or
# less, when kefu's flow hangs up first) and a new one takes its place.
# Every call's RTP goes to bench/rtpsink, which echoes it back, so kefu
# hears a caller. /metrics is sampled every INTERVAL seconds; the report
# compares goroutines, heap in use, RSS and open FDs idle before the load,
# at the start and the end of the loaded period, and idle again once the
# calls have drained, with the trend per hour over the loaded period.
#
# Usage: soak/soak.sh [-d DURATION] [-n N] [-c HOLD] [-i INTERVAL]
#   -d DURATION  loaded period in seconds (env DURATION, default 600)
#   -n N         concurrent calls (env N, default 100)
#   -c HOLD      call length in seconds (env HOLD, default 20): sipp
#                places N/HOLD calls a second
#   -i INTERVAL  seconds between samples (env INTERVAL, default 30)
# Other environment: OUT (result directory, default a new /tmp/kefu-soak.*),
# SIP_PORT (11060), HTTP_PORT (11080), SINK_PORT (11000), SIPP_PORT (11062),
# RTP_LO (41000), KEFU_BIN (a kefu binary to test instead of building the
# working tree), KEFU_ARGS (more kefu run flags, e.g. "-config FILE"),
# LOG_LEVEL (kefu's, default warn). Needs sipp (Debian sip-tester), curl,
# awk, go.
set -euo pipefail

DURATION=${DURATION:-600}
N=${N:-100}
HOLD=${HOLD:-20}
INTERVAL=${INTERVAL:-30}
while getopts "d:n:c:i:h" opt; do
	case $opt in
	d) DURATION=$OPTARG ;;
	n) N=$OPTARG ;;
	c) HOLD=$OPTARG ;;
	i) INTERVAL=$OPTARG ;;
	*)
		awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"
		exit 2
		;;
	esac
done

SIP_PORT=${SIP_PORT:-11060}
HTTP_PORT=${HTTP_PORT:-11080}
SINK_PORT=${SINK_PORT:-11000}
SIPP_PORT=${SIPP_PORT:-11062}
RTP_LO=${RTP_LO:-41000}
RTP_HI=$((RTP_LO + 2 * N + 200)) # one even port per call, plus slack
LOG_LEVEL=${LOG_LEVEL:-warn}
SOAK=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$SOAK")
OUT=${OUT:-$(mktemp -d /tmp/kefu-soak.XXXXXX)}
mkdir -p "$OUT"
# sipp's rate: a little above N/HOLD, so that calls kefu ends early are
# replaced at once; -l N caps the calls up at any moment.
RATE=$(awk -v n="$N" -v h="$HOLD" 'BEGIN {printf "%.2f", n / h * 1.25}')

for tool in sipp curl awk go; do
	command -v "$tool" >/dev/null || {
		echo "soak.sh: $tool is not installed${tool/sipp/ (apt-get install sip-tester)}" >&2
		exit 1
	}
done

# Every process this script starts, stopped on any exit (newest first).
PIDS=()
cleanup() {
	local i pid
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		pid=${PIDS[i]}
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((N + 256)) ]; then
	echo "soak.sh: ulimit -n $(ulimit -n) is too low for $N calls" >&2
	exit 1
fi

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

METRICS="http://127.0.0.1:$HTTP_PORT/metrics"
# sample LABEL: appends one line to samples.tsv: seconds since the start,
# label, active calls, calls ended so far, goroutines, heap in use (bytes,
# garbage not yet collected included), RSS (bytes), open FDs, and the GC's
# heap goal (bytes: twice the heap that was live after the last GC, at
# GOGC=100; 4 MB at least), the figure that shows a leak without the
# saw-tooth of garbage.
T0=$(date +%s)
echo -e "t\tlabel\tactive\tended\tgoroutines\theap_inuse\trss\tfds\theap_goal" >"$OUT/samples.tsv"
sample() {
	curl -fs "$METRICS" | awk -v t=$(($(date +%s) - T0)) -v label="$1" '
		/^kefu_calls_active / {active = $2}
		/^kefu_calls_total\{/ {ended += $2}
		/^go_goroutines / {g = $2}
		/^go_memstats_heap_inuse_bytes / {heap = $2}
		/^process_resident_memory_bytes / {rss = $2}
		/^process_open_fds / {fds = $2}
		/^go_memstats_next_gc_bytes / {goal = $2}
		END {printf "%d\t%s\t%d\t%d\t%d\t%.0f\t%.0f\t%d\t%.0f\n", t, label, active, ended, g, heap, rss, fds, goal}
	' >>"$OUT/samples.tsv"
	tail -1 "$OUT/samples.tsv" >&2
}
# aftergc N: waits (up to GC_WAIT seconds, default 150: the runtime
# collects at least every two minutes) until the GC has run N more times,
# so that an idle sample shows the heap without the garbage of what came
# before (the prompts decoded at start, the calls just ended).
aftergc() {
	local want
	want=$(($(metric go_gc_duration_seconds_count) + $1))
	for _ in $(seq $((${GC_WAIT:-150} * 2))); do
		[ "$(metric go_gc_duration_seconds_count)" -ge "$want" ] && return
		sleep 0.5
	done
	log "no GC within ${GC_WAIT:-150}s"
}
# metric NAME: the value of one unlabelled sample.
# (awk reads to the end: an early exit would fail curl, and pipefail the
# script.)
metric() { curl -fs "$METRICS" | awk -v m="$1" '$1 == m {v = $2} END {print v + 0}'; }

log "building into $OUT"
(cd "$REPO" && go build -o "$OUT/rtpsink" ./bench/rtpsink)
if [ -n "${KEFU_BIN:-}" ]; then
	cp "$KEFU_BIN" "$OUT/kefu"
else
	(cd "$REPO" && go build -o "$OUT/kefu" ./cmd/kefu)
fi
sed "s/HOLD_MS/$((HOLD * 1000))/" "$SOAK/uac_soak.xml" >"$OUT/uac_soak.xml"

# sipp is the PBX trunk: trusted, so the flood guard's per-source limits
# leave its calls alone.
log "kefu: SIP 127.0.0.1:$SIP_PORT, RTP $RTP_LO-$RTP_HI, ops http 127.0.0.1:$HTTP_PORT"
# shellcheck disable=SC2086 # KEFU_ARGS is a list of flags
"$OUT/kefu" run -listen "127.0.0.1:$SIP_PORT" -rtp-ports "$RTP_LO-$RTP_HI" -http "127.0.0.1:$HTTP_PORT" \
	-data "$OUT/data" -log-level "$LOG_LEVEL" -grace 1s -trusted 127.0.0.1 ${KEFU_ARGS:-} 2>"$OUT/kefu.log" &
KEFU=$!
PIDS+=("$KEFU")
for _ in $(seq 200); do
	curl -fs "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null 2>&1 && break
	kill -0 "$KEFU" 2>/dev/null || {
		tail "$OUT/kefu.log" >&2
		exit 1
	}
	sleep 0.1
done
aftergc 1
sample idle

"$OUT/rtpsink" -listen "127.0.0.1:$SINK_PORT" -echo -json "$OUT/sink.json" >"$OUT/sink.txt" 2>&1 &
PIDS+=($!)

log "sipp: $N calls of ${HOLD}s at most, $RATE calls/s, for ${DURATION}s"
(cd "$OUT" && exec sipp -sf "$OUT/uac_soak.xml" -i 127.0.0.1 -p "$SIPP_PORT" -key rtp_port "$SINK_PORT" \
	-r "$RATE" -l "$N" -trace_stat -fd 10 -trace_err -nostdin \
	-watchdog_minor_maxtriggers 1000000 -watchdog_major_maxtriggers 1000000 \
	"127.0.0.1:$SIP_PORT" >"$OUT/sipp.out" 2>&1) &
SIPP=$!
PIDS+=("$SIPP")

# The loaded period starts once N calls are up.
for _ in $(seq $((HOLD * 20 + 100))); do
	[ "$(metric kefu_calls_active)" -ge "$N" ] 2>/dev/null && break
	sleep 0.1
done
START=$(date +%s)
sample start
while :; do
	left=$((START + DURATION - $(date +%s)))
	[ "$left" -le 0 ] && break
	sleep "$((left < INTERVAL ? left : INTERVAL))"
	kill -0 "$KEFU" 2>/dev/null || {
		log "kefu died"
		tail "$OUT/kefu.log" >&2
		exit 1
	}
	# sipp's own watchdog ends its run when the machine starves it of CPU
	# (off above); whatever ends it early, a soak without calls is no soak.
	kill -0 "$SIPP" 2>/dev/null || {
		log "sipp ended before the soak did; see $OUT/sipp.out"
		tail -c 2000 "$OUT/sipp.out" >&2
		exit 1
	}
	[ $(($(date +%s) - START)) -ge "$DURATION" ] && break
	sample loaded
done
sample end

log "stopping sipp (its calls end by themselves)"
kill -USR1 "$SIPP" 2>/dev/null || true
for _ in $(seq $((HOLD * 10 + 300))); do
	kill -0 "$SIPP" 2>/dev/null || break
	sleep 0.1
done
for _ in $(seq 300); do
	[ "$(metric kefu_calls_active)" -eq 0 ] 2>/dev/null && break
	sleep 0.1
done
aftergc 1 # and the last calls' goroutines have finished their teardown
sample drained

kill -TERM "${PIDS[1]}" 2>/dev/null || true # rtpsink writes its report
sleep 1

stats=$(ls -t "$OUT"/uac_soak_*_.csv 2>/dev/null | head -1 || true)
calls_ok=0 calls_failed=0
if [ -n "$stats" ]; then
	read -r calls_ok calls_failed < <(awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) col[$i] = i; next}
		{ok = $col["SuccessfulCall(C)"]; ko = $col["FailedCall(C)"]} END {print ok + 0, ko + 0}' "$stats")
fi

{
	echo "kefu soak: $N concurrent calls of ${HOLD}s at most for ${DURATION}s ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
	echo "calls: sipp $calls_ok completed, $calls_failed failed; kefu ended $(awk -F'\t' '$2 == "drained" {print $4}' "$OUT/samples.tsv")"
	echo
	awk -F'\t' '
		NR == 1 {next}
		{row[$2] = $0; if ($2 == "start" || $2 == "loaded" || $2 == "end") {n++; x[n] = $1; for (c = 5; c <= 9; c++) y[c, n] = $c}}
		END {
			printf "%-9s %7s %10s %12s %10s %8s %11s\n", "", "active", "goroutines", "heap_inuse", "rss", "fds", "heap_goal"
			split("idle start end drained", order, " ")
			for (i = 1; i <= 4; i++) {
				split(row[order[i]], f, "\t")
				printf "%-9s %7d %10d %9.1f MB %7.1f MB %8d %8.1f MB\n", order[i], f[3], f[5], f[6] / 1048576, f[7] / 1048576, f[8], f[9] / 1048576
			}
			split(row["start"], s, "\t"); split(row["idle"], z, "\t")
			if (s[3] > 0)
				printf "per call  (start - idle) / active: %.1f goroutines, %.2f FDs, %.0f kB live heap (heap goal / 2)\n",
					(s[5] - z[5]) / s[3], (s[8] - z[8]) / s[3], (s[9] - z[9]) / 2 / s[3] / 1024
			# least-squares slope per hour over the loaded samples
			if (n >= 3) {
				for (i = 1; i <= n; i++) {sx += x[i]; sxx += x[i] * x[i]}
				d = n * sxx - sx * sx
				printf "trend per hour over %d loaded samples:", n
				split("goroutines heap_inuse_MB rss_MB fds heap_goal_MB", name, " ")
				for (c = 5; c <= 9; c++) {
					sy = 0; sxy = 0
					for (i = 1; i <= n; i++) {v = y[c, i]; if (c == 6 || c == 7 || c == 9) v /= 1048576; sy += v; sxy += x[i] * v}
					printf " %s %+.1f", name[c - 4], d ? (n * sxy - sx * sy) / d * 3600 : 0
				}
				printf "\n"
			}
		}' "$OUT/samples.tsv"
	echo
	echo "samples: $OUT/samples.tsv; kefu's log: $OUT/kefu.log; sipp: $OUT/sipp.out, ${stats:-no stats file}"
} | tee "$OUT/summary.txt"
