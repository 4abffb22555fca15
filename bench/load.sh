#!/usr/bin/env bash
# bench/load.sh — kefu's load test on loopback (see bench/README.md).
#
# Builds kefu and bench/rtpsink into a temporary directory, runs kefu with
# bench/kefu-bench.yaml (answer_delay 0s), and has sipp place N calls at R
# calls/s (bench/uac_load.xml). Every call's SDP points at rtpsink's one UDP
# port, so rtpsink receives all of kefu's RTP. Once N streams flow, rtpsink
# opens a measurement window of STEADY seconds and reads kefu's CPU time at
# both ends; the calls then hang up. Prints and writes a summary against the
# targets of issue 2.
#
# Usage: bench/load.sh [-n N] [-r R] [-s STEADY] [-e] [-b MODE]
#   -n N       concurrent calls (env N, default 1000)
#   -r R       new calls per second (env R, default 50)
#   -s STEADY  measurement window in seconds (env STEADY, default 15)
#   -e         rtpsink echoes every packet back, exercising kefu's receive
#              path and VAD (env ECHO=1)
#   -b MODE    baseline: no kefu, no SIP; bench/rtpsend sends N streams
#              started over the same ramp, MODE bare, player or shared
#              (env BASELINE; see bench/rtpsend)
# Other environment: OUT (result directory, default a new /tmp/kefu-load.*),
# SIP_PORT (25060), HTTP_PORT (25080), SINK_PORT (26000), RTP_LO (27000),
# SIPP_PORT (25062), KEFU_BIN (a kefu binary to test instead of building
# the working tree), LOG_LEVEL (kefu's, default info), CAPTURE (1: time
# INVITE→200 with dumpcap during the ramp, when dumpcap is installed; 0: off),
# GAPMIN (gaps listed in $OUT/gaps.txt, default 40ms), PERF (1: record a CPU
# profile of the sender with perf during the window, into $OUT/perf.data and
# $OUT/perf.txt; it costs the sender a little CPU). Needs sipp, curl, awk;
# tshark/dumpcap and jq are optional.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

N=${N:-1000}
R=${R:-50}
STEADY=${STEADY:-15}
ECHO=${ECHO:-0}
BASELINE=${BASELINE:-}
while getopts "n:r:s:eb:h" opt; do
	case $opt in
	n) N=$OPTARG ;;
	r) R=$OPTARG ;;
	s) STEADY=$OPTARG ;;
	e) ECHO=1 ;;
	b) BASELINE=$OPTARG ;;
	*) usage ;;
	esac
done

SIP_PORT=${SIP_PORT:-25060}
SIPP_PORT=${SIPP_PORT:-25062}
HTTP_PORT=${HTTP_PORT:-25080}
SINK_PORT=${SINK_PORT:-26000}
RTP_LO=${RTP_LO:-27000}
RTP_HI=$((RTP_LO + 2 * N + 200)) # one even port per call, plus slack
LOG_LEVEL=${LOG_LEVEL:-info}
CAPTURE=${CAPTURE:-1}
PERF=${PERF:-0}
RAMP=$(((N + R - 1) / R))         # seconds sipp needs to start N calls
HOLD=$((RAMP + STEADY + 12))      # call length: ramp, settle, window, margin
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
OUT=${OUT:-$(mktemp -d /tmp/kefu-load.XXXXXX)}
mkdir -p "$OUT"

[ -z "$BASELINE" ] && ! command -v sipp >/dev/null && {
	echo "load.sh: sipp is not installed (apt-get install sip-tester)" >&2
	exit 1
}
[ -n "$BASELINE" ] && CAPTURE=0
if [ "$CAPTURE" = 1 ] && ! command -v dumpcap >/dev/null; then
	echo "load.sh: dumpcap not found; INVITE→200 comes from sipp only (ms resolution)" >&2
	CAPTURE=0
fi

# Every process this script starts, stopped on any exit.
cleanup() {
	stop_all
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Each call holds a socket in kefu; sipp and rtpsink need a few more.
need_fds $((N + 256)) "$N calls"

# pct: reads numbers, one a line, and prints their count, p50, p99 and max
# (nearest rank).
pct() {
	sort -g | awk '{v[NR] = $1} END {
		if (NR == 0) { print "no samples"; exit }
		i = int(NR * 0.50 + 0.5); if (i < 1) i = 1; p50 = v[i]
		i = int(NR * 0.99 + 0.5); if (i < 1) i = 1; p99 = v[i]
		printf "%d calls: p50 %s  p99 %s  max %s", NR, p50, p99, v[NR]
	}'
}


log "building into $OUT"
(cd "$REPO" && go build -o "$OUT/rtpsink" ./bench/rtpsink)
if [ -n "$BASELINE" ]; then
	(cd "$REPO" && go build -o "$OUT/rtpsend" ./bench/rtpsend)
elif [ -n "${KEFU_BIN:-}" ]; then
	cp "$KEFU_BIN" "$OUT/kefu"
else
	(cd "$REPO" && go build -o "$OUT/kefu" ./cmd/kefu)
fi

SUT=kefu # the measured sender's name in rtpsink's report
if [ -n "$BASELINE" ]; then
	SUT=rtpsend
else
	# sipp is the PBX trunk here: trusted, so the flood guard's per-source
	# limits (20 INVITE/s) do not refuse the 50 calls/s of the ramp.
	log "kefu: SIP 127.0.0.1:$SIP_PORT, RTP $RTP_LO-$RTP_HI, config bench/kefu-bench.yaml"
	"$OUT/kefu" run -listen "127.0.0.1:$SIP_PORT" -rtp-ports "$RTP_LO-$RTP_HI" -http "127.0.0.1:$HTTP_PORT" \
		-data "$OUT/data" -config "$BENCH/kefu-bench.yaml" -log-level "$LOG_LEVEL" -grace 1s -trusted 127.0.0.1 2>"$OUT/kefu.log" &
	KEFU=$!
	PIDS+=("$KEFU")
	for _ in $(seq 100); do
		curl -fs "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null 2>&1 && break
		kill -0 "$KEFU" 2>/dev/null || {
			tail "$OUT/kefu.log" >&2
			exit 1
		}
		sleep 0.1
	done
	sleep 0.2
	kill -0 "$KEFU" 2>/dev/null || { # e.g. another program holds the SIP port
		tail -3 "$OUT/kefu.log" >&2
		exit 1
	}
	echo "kefu=$KEFU" >"$OUT/pids"
fi

SINK_ARGS=(-listen "127.0.0.1:$SINK_PORT" -pidfile "$OUT/pids" -gaplog "$OUT/gaps.txt" -gapmin "${GAPMIN:-40ms}" -status "$OUT/sink.status" -json "$OUT/sink.json")
[ "$ECHO" = 1 ] && SINK_ARGS+=(-echo)
"$OUT/rtpsink" "${SINK_ARGS[@]}" >"$OUT/sink.txt" 2>"$OUT/sink.log" &
SINK=$!
PIDS+=("$SINK")
sleep 0.3
kill -0 "$SINK" || {
	cat "$OUT/sink.log" >&2
	exit 1
}

if [ "$CAPTURE" = 1 ]; then
	# SIP only, and only during the ramp: the capture taps every packet on
	# lo, so it is stopped before the measurement window.
	dumpcap -q -i lo -f "udp port $SIP_PORT" -w "$OUT/sip.pcapng" 2>"$OUT/dumpcap.log" &
	DUMPCAP=$!
	PIDS+=("$DUMPCAP")
	sleep 1
fi

if [ -n "$BASELINE" ]; then
	log "rtpsend: $N streams, mode $BASELINE, started over ${RAMP}s, each ${HOLD}s"
	"$OUT/rtpsend" -to "127.0.0.1:$SINK_PORT" -n "$N" -mode "$BASELINE" -ramp "${RAMP}s" -for "$((RAMP + HOLD))s" 2>"$OUT/rtpsend.log" &
	GEN=$!
	PIDS+=("$GEN")
	echo "rtpsend=$GEN" >"$OUT/pids"
else
	log "sipp: $N calls at $R/s, each ${HOLD}s (ramp ${RAMP}s), echo=$ECHO"
	(cd "$OUT" && exec sipp -sf "$BENCH/uac_load.xml" -i 127.0.0.1 -p "$SIPP_PORT" "127.0.0.1:$SIP_PORT" \
		-r "$R" -l "$N" -m "$N" -d "$((HOLD * 1000))" -key rtp_port "$SINK_PORT" \
		-trace_rtt -rtt_freq 1 -trace_stat -fd 5 -trace_err -nostdin \
		-timeout "$((HOLD + RAMP + 60))s" >"$OUT/sipp.out" 2>&1) &
	GEN=$!
	PIDS+=("$GEN")
	echo "sipp=$GEN" >>"$OUT/pids"
fi

# Wait until N streams flow (or the ramp is clearly stuck).
active=0
deadline=$((SECONDS + RAMP + 30))
while [ $SECONDS -lt $deadline ]; do
	active=$(awk '$1 == "active" {print $2}' "$OUT/sink.status" 2>/dev/null || echo 0)
	[ "${active:-0}" -ge "$N" ] && break
	kill -0 "$GEN" 2>/dev/null || break
	sleep 0.5
done
log "ramp done: $active of $N streams active"
if [ -n "${DUMPCAP:-}" ]; then
	kill -TERM "$DUMPCAP" 2>/dev/null || true
	wait "$DUMPCAP" 2>/dev/null || true
fi
sleep 2 # let the last answers settle

kill -USR1 "$SINK"
log "measuring for ${STEADY}s"
if [ "$PERF" = 1 ]; then
	perf record -q -F 499 -g -p "$(sed -n 1p "$OUT/pids" | cut -d= -f2)" -o "$OUT/perf.data" -- sleep "$STEADY" 2>"$OUT/perf.log" || sleep "$STEADY"
else
	sleep "$STEADY"
fi
kill -USR2 "$SINK"
active_end=$(awk '$1 == "active" {print $2}' "$OUT/sink.status" 2>/dev/null || echo 0)

GEN_RC=0
if [ -n "$BASELINE" ]; then
	kill -TERM "$GEN" 2>/dev/null || true
	wait "$GEN" || true
else
	log "waiting for the calls to end"
	wait "$GEN" || GEN_RC=$?
	curl -fs "http://127.0.0.1:$HTTP_PORT/metrics" >"$OUT/metrics.txt" || true
fi
kill -TERM "$SINK" 2>/dev/null || true
wait "$SINK" || true
if [ -z "$BASELINE" ]; then
	kill -TERM "$KEFU" 2>/dev/null || true
	wait "$KEFU" || true
fi

if [ "$PERF" = 1 ] && [ -s "$OUT/perf.data" ]; then
	{
		echo "# self time by symbol"
		perf report -i "$OUT/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60
		echo "# including callees, by symbol"
		perf report -i "$OUT/perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -80
	} >"$OUT/perf.txt" || true # head closes the pipe early
fi

# ---- summary ----
{
	echo "kefu load test: N=$N R=$R/s STEADY=${STEADY}s echo=$ECHO${BASELINE:+ baseline=rtpsend -mode $BASELINE}, $(date -u +%FT%TZ), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -r)"
	echo "streams active at window start/end: $active / $active_end"
	cat "$OUT/sink.txt"

	rtt=$(ls "$OUT"/uac_load_*_rtt.csv 2>/dev/null | head -1)
	if [ -n "$rtt" ]; then
		echo "INVITE→200 (sipp, whole ms): $(awk -F';' 'NR > 1 && $3 == 1 {print $2}' "$rtt" | pct) ms"
	fi
	if [ -s "$OUT/sip.pcapng" ] && command -v tshark >/dev/null; then
		echo "INVITE→200 (capture on lo during the ramp): $(tshark -r "$OUT/sip.pcapng" -Y sip -T fields -E separator=';' \
			-e frame.time_epoch -e sip.Call-ID -e sip.Method -e sip.Status-Code -e sip.CSeq.method 2>/dev/null |
			awk -F';' '
				$3 == "INVITE" && !($2 in inv) { inv[$2] = $1 }
				$4 == "200" && $5 == "INVITE" && ($2 in inv) && !($2 in ok) { ok[$2] = 1; printf "%.3f\n", ($1 - inv[$2]) * 1000 }' |
			pct) ms"
	fi
	[ -s "$OUT/metrics.txt" ] && awk '
		/^kefu_answer_processing_seconds_bucket/ {
			match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5)
			n++; les[n] = le; cnt[n] = $2
		}
		/^kefu_answer_processing_seconds_count/ { total = $2 }
		END {
			if (total == 0) { print "kefu_answer_processing_seconds: no samples"; exit }
			line = "kefu_answer_processing_seconds (" total " calls):"
			for (q = 1; q <= 2; q++) {
				p = (q == 1) ? 0.5 : 0.99; lo = 0; prev = 0
				for (i = 1; i <= n; i++) {
					if (cnt[i] >= p * total) {
						hi = (les[i] == "+Inf") ? lo : les[i]
						v = lo + (hi - lo) * (p * total - prev) / (cnt[i] - prev > 0 ? cnt[i] - prev : 1)
						line = line sprintf(" p%d ≈ %.2f ms", p * 100, v * 1000); break
					}
					lo = les[i]; prev = cnt[i]
				}
			}
			print line "  (interpolated in buckets 0.5, 1, 2, 4, 8, 16, 32 ms ...)"
			for (i = 1; i <= n; i++) if (cnt[i] > 0) printf "  le %-7s %d\n", les[i], cnt[i]
		}' "$OUT/metrics.txt" 2>/dev/null || true
	grep -E '^kefu_(calls_total|calls_answered_total|invites_rejected_total|rtp_packets_(sent|received|lost)_total)' "$OUT/metrics.txt" 2>/dev/null | sed 's/^/  /' || true
	stat=$(ls "$OUT"/uac_load_*_.csv 2>/dev/null | head -1)
	if [ -n "$stat" ]; then
		awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) h[$i] = i} END {printf "sipp: %s successful, %s failed calls (exit %s)\n", $h["SuccessfulCall(C)"], $h["FailedCall(C)"], rc}' rc="$GEN_RC" "$stat"
	fi
	echo "results in $OUT"
} | tee "$OUT/summary.txt"

# Targets of issue 2 (at 1000 calls, 50 calls/s).
if command -v jq >/dev/null; then
	jq -r --arg sut "$SUT" '
		"targets (issue 2; they apply at N=1000): " +
		"cpu/call-min \(.window.cpu_seconds_per_call_minute[$sut] // "n/a" | tostring) (≤ 0.025) " +
		"loss \(.lost) (0) p99 largest gap \(.max_gap_p99_ms) ms (≤ 25)"' "$OUT/sink.json" | tee -a "$OUT/summary.txt"
fi
