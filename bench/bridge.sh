#!/usr/bin/env bash
# bench/bridge.sh — kefu's bridged-call load test on loopback (see
# bench/README.md, "The bridge load test").
#
# N callers (sipp, bench/uac_load.xml) queue for N agents whose fixed
# contacts are one sipp UAS (bench/uas_agent.xml); bench/rtppeer is the
# media of both ends: it answers every leg of kefu's with stamped, paced
# RTP. In one run and one kefu process it measures two windows of STEADY
# seconds: "one-leg", while every caller waits in the queue (the agents are
# paused through the ops API; kefu plays the hold music and listens), and
# "bridged", once the agents are made ready at R per second and kefu has
# bridged every caller to an agent (2N legs, the audio relayed both ways).
# Reports CPU per call-minute in both windows and their ratio, the relay's
# delay, loss and underruns in both directions, and whether every caller
# hears their own agent.
#
# Usage: bench/bridge.sh [-n N] [-r R] [-s STEADY]
#   -n N       bridged calls at once (env N, default 500): 2N legs
#   -r R       new calls per second, and agents made ready per second
#              (env R, default 100)
#   -s STEADY  each measurement window in seconds (env STEADY, default 10)
# Other environment: OUT (result directory, default a new
# /tmp/kefu-bridge.*), SIP_PORT (35060), HTTP_PORT (35080), SIPP_PORT (the
# callers', 35062), AGENT_PORT (the agents' sipp, 35070), CALLER_MEDIA
# (36000) and AGENT_MEDIA (36002) for rtppeer, RTP_LO (37000, kefu's RTP
# ports from there), KEFU_BIN (a kefu binary to test instead of building
# the working tree), REV (the kefu revision the summary names; default the
# checkout's), LOG_LEVEL (kefu's, default info), PERF (1: a perf
# profile of kefu in the bridged window, $OUT/perf.data and perf.txt).
# Needs sipp, curl, awk; jq for the verdict lines.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

N=${N:-500}
R=${R:-100}
STEADY=${STEADY:-10}
while getopts "n:r:s:h" opt; do
	case $opt in
	n) N=$OPTARG ;;
	r) R=$OPTARG ;;
	s) STEADY=$OPTARG ;;
	*) usage ;;
	esac
done

SIP_PORT=${SIP_PORT:-35060}
SIPP_PORT=${SIPP_PORT:-35062}
AGENT_PORT=${AGENT_PORT:-35070}
HTTP_PORT=${HTTP_PORT:-35080}
CALLER_MEDIA=${CALLER_MEDIA:-36000}
AGENT_MEDIA=${AGENT_MEDIA:-36002}
RTP_LO=${RTP_LO:-37000}
RTP_HI=$((RTP_LO + 4 * N + 400)) # one even port per leg, two legs a call, plus slack
LOG_LEVEL=${LOG_LEVEL:-info}
PERF=${PERF:-0}
AGENT0=70000                      # the first agent's id
RAMP=$(((N + R - 1) / R))         # seconds to start N calls, or to ready N agents
HOLD=$((2 * RAMP + 2 * STEADY + 40)) # call length: both ramps, both windows, settling, margin
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
OUT=${OUT:-$(mktemp -d /tmp/kefu-bridge.XXXXXX)}
mkdir -p "$OUT"

command -v sipp >/dev/null || {
	echo "bridge.sh: sipp is not installed (apt-get install sip-tester)" >&2
	exit 1
}

cleanup() {
	stop_all
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_fds $((2 * N + 256)) "$N bridged calls"



# waitfor KEY MIN SECONDS: until rtppeer's KEY reaches MIN (or time is up);
# prints the last value.
waitfor() {
	local v=0 deadline=$((SECONDS + $3))
	while [ $SECONDS -lt "$deadline" ]; do
		v=$(status "$1")
		[ "${v:-0}" -ge "$2" ] && break
		kill -0 "$CALLERS" 2>/dev/null || break
		sleep 0.5
	done
	echo "${v:-0}"
}

# agents VERB FROM COUNT: POST /api/agents/{id}/VERB for COUNT agents from
# index FROM, in one curl; prints how many were refused.
agents() {
	local urls=() i
	for ((i = $2; i < $2 + $3 && i < N; i++)); do
		urls+=("http://127.0.0.1:$HTTP_PORT/api/agents/$((AGENT0 + i))/$1")
	done
	[ ${#urls[@]} -gt 0 ] || { echo 0; return; }
	curl -s -X POST -w '\nHTTP %{http_code}\n' "${urls[@]}" | awk '$1 == "HTTP" && $2 != 200 {n++} END {print n + 0}'
}

# busy: how many cores the machine keeps busy over 3 s (/proc/stat: all
# but idle and iowait).
busy() {
	local a b
	a=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
	sleep 3
	b=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
	echo "$a $b" | awk '{printf "%.2f", ($3 - $1) / ($3 - $1 + $4 - $2) * '"$(nproc)"'}'
}
BEFORE=$(busy)
log "machine before the run: $BEFORE of $(nproc) cores busy"

log "building into $OUT"
(cd "$REPO" && go build -o "$OUT/rtppeer" ./bench/rtppeer)
if [ -n "${KEFU_BIN:-}" ]; then
	cp "$KEFU_BIN" "$OUT/kefu"
else
	(cd "$REPO" && go build -o "$OUT/kefu" ./cmd/kefu)
fi

# The config: bench/kefu-bench.yaml's settings (answer at once, a media
# timeout longer than any call), one queue, N agents at the agents' sipp,
# and a flow that queues every caller and closes after the agent's call.
{
	cat <<EOF
# Written by bench/bridge.sh for $N bridged calls.
company: 卓达社区网中心
timezone: Asia/Shanghai
language: zh-CN
answer_delay: 0s
media_timeout: 300s
queues: [{name: customers, ring_timeout: 10s, wrap_up: 0s}]
routes: [{to: "*", flow: bridge}]
flows:
  bridge:
    steps:
      - {name: wait, queue: {queue: customers, on_answer: end, on_timeout: end}}
      - {name: end, close: {}, exception: a load test}
agents:
EOF
	for ((i = 0; i < N; i++)); do
		printf '  - {id: "%d", contact: "sip:%d@127.0.0.1:%d", queues: [customers]}\n' $((AGENT0 + i)) $((AGENT0 + i)) "$AGENT_PORT"
	done
} >"$OUT/kefu-bridge.yaml"
"$OUT/kefu" check "$OUT/kefu-bridge.yaml" >"$OUT/check.txt" 2>&1 || {
	cat "$OUT/check.txt" >&2
	exit 1
}

log "kefu: SIP 127.0.0.1:$SIP_PORT, RTP $RTP_LO-$RTP_HI, $N agents at 127.0.0.1:$AGENT_PORT"
"$OUT/kefu" run -listen "127.0.0.1:$SIP_PORT" -rtp-ports "$RTP_LO-$RTP_HI" -http "127.0.0.1:$HTTP_PORT" \
	-data "$OUT/data" -config "$OUT/kefu-bridge.yaml" -log-level "$LOG_LEVEL" -grace 1s -trusted 127.0.0.1 2>"$OUT/kefu.log" &
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
kill -0 "$KEFU" 2>/dev/null || {
	tail -3 "$OUT/kefu.log" >&2
	exit 1
}
echo "kefu=$KEFU" >"$OUT/pids"

# Fixed-contact agents start available: pause them all, so that the
# callers wait in the queue for the one-leg window.
refused=0
for ((i = 0; i < N; i += 200)); do
	refused=$((refused + $(agents pause "$i" 200)))
done
[ "$refused" = 0 ] || {
	echo "bridge.sh: kefu refused to pause $refused agents" >&2
	exit 1
}

"$OUT/rtppeer" -caller "127.0.0.1:$CALLER_MEDIA" -agent "127.0.0.1:$AGENT_MEDIA" -pidfile "$OUT/pids" \
	-status "$OUT/peer.status" -json "$OUT/peer.json" -timeline "$OUT/timeline.txt" -windows one-leg,bridged >"$OUT/peer.txt" 2>"$OUT/peer.log" &
PEER=$!
PIDS+=("$PEER")

(cd "$OUT" && exec sipp -sf "$BENCH/uas_agent.xml" -i 127.0.0.1 -p "$AGENT_PORT" -key rtp_port "$AGENT_MEDIA" \
	-m "$N" -trace_stat -fd 5 -trace_err -nostdin -timeout "$((HOLD + 120))s" >"$OUT/sipp-agents.out" 2>&1) &
AGENTS=$!
PIDS+=("$AGENTS")
sleep 0.5
for p in "$PEER" "$AGENTS"; do
	kill -0 "$p" 2>/dev/null || {
		cat "$OUT/peer.log" "$OUT/sipp-agents.out" >&2
		exit 1
	}
done
echo "sipp_agents=$AGENTS" >>"$OUT/pids"

log "sipp: $N callers at $R/s, each ${HOLD}s"
(cd "$OUT" && exec sipp -sf "$BENCH/uac_load.xml" -i 127.0.0.1 -p "$SIPP_PORT" "127.0.0.1:$SIP_PORT" \
	-r "$R" -l "$N" -m "$N" -d "$((HOLD * 1000))" -key rtp_port "$CALLER_MEDIA" \
	-trace_stat -fd 5 -trace_err -nostdin -timeout "$((HOLD + RAMP + 60))s" >"$OUT/sipp-callers.out" 2>&1) &
CALLERS=$!
PIDS+=("$CALLERS")
echo "sipp_callers=$CALLERS" >>"$OUT/pids"

queued=$(waitfor caller_active "$N" $((RAMP + 30)))
log "ramp done: $queued of $N callers queued"
sleep 2

kill -USR1 "$PEER"
log "window one-leg: ${STEADY}s"
sleep "$STEADY"
kill -USR2 "$PEER"

log "making $N agents ready at $R/s"
refused=0
for ((i = 0; i < N; i += R)); do
	refused=$((refused + $(agents ready "$i" "$R")))
	sleep 1
done
[ "$refused" = 0 ] || log "kefu refused to make $refused agents ready"
bridged=$(waitfor caller_bridged "$N" 30)
bridged_agents=$(waitfor agent_bridged "$N" 10)
log "bridged: $bridged callers and $bridged_agents agents hear each other"
sleep 2

kill -USR1 "$PEER"
log "window bridged: ${STEADY}s"
if [ "$PERF" = 1 ]; then
	perf record -q -F 499 -g -p "$KEFU" -o "$OUT/perf.data" -- sleep "$STEADY" 2>"$OUT/perf.log" || sleep "$STEADY"
else
	sleep "$STEADY"
fi
kill -USR2 "$PEER"
curl -fs "http://127.0.0.1:$HTTP_PORT/metrics" >"$OUT/metrics-bridged.txt" || true

log "waiting for the calls to end"
CALLERS_RC=0
wait "$CALLERS" || CALLERS_RC=$?
sleep 2
curl -fs "http://127.0.0.1:$HTTP_PORT/metrics" >"$OUT/metrics.txt" || true
kill -TERM "$PEER" 2>/dev/null || true
wait "$PEER" || true
kill -TERM "$AGENTS" 2>/dev/null || true
wait "$AGENTS" 2>/dev/null || true
kill -TERM "$KEFU" 2>/dev/null || true
wait "$KEFU" || true

if [ "$PERF" = 1 ] && [ -s "$OUT/perf.data" ]; then
	{
		echo "# self time by symbol"
		perf report -i "$OUT/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60
		echo "# including callees, by symbol"
		perf report -i "$OUT/perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -80
	} >"$OUT/perf.txt" || true
fi

# ---- summary ----
{
	echo "kefu bridge load test: N=$N R=$R/s STEADY=${STEADY}s, $(date -u +%FT%TZ), kefu ${REV:-$(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo '?')}, $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -r)"
	echo "machine before the run: $BEFORE of $(nproc) cores busy (others' work; see each window's line too)"
	echo "callers queued $queued of $N; bridged: $bridged callers, $bridged_agents agents"
	cat "$OUT/peer.txt"
	command -v jq >/dev/null && grep '"agent call ended"' "$OUT/kefu.log" | jq -rs '
		"kefu: \(length) agent calls ended (by: \(group_by(.by) | map("\(.[0].by) \(length)") | join(", "))), " +
		"frames relayed to agents \(map(.relayed_to_agent) | add), to callers \(map(.relayed_to_caller) | add)"' || true
	grep -E '^kefu_(calls_total|calls_answered_total|invites_rejected_total|rtp_packets_(sent|received|lost)_total|agent_offers_total)' "$OUT/metrics.txt" 2>/dev/null | sed 's/^/  /' || true
	for who in callers agents; do
		stat=$(ls "$OUT"/uac_load_*_.csv "$OUT"/uas_agent_*_.csv 2>/dev/null | grep "$([ $who = callers ] && echo uac || echo uas)" | head -1)
		[ -n "$stat" ] && awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) h[$i] = i} END {printf "sipp %s: %s successful, %s failed calls\n", who, $h["SuccessfulCall(C)"], $h["FailedCall(C)"]}' who="$who" "$stat"
	done
	echo "results in $OUT"
} | tee "$OUT/summary.txt"

# Targets of issue 12 (at N=500).
if command -v jq >/dev/null && [ -s "$OUT/peer.json" ]; then
	jq -r '
		(.windows | map({(.label): .}) | add) as $w |
		($w["one-leg"].cpu_seconds_per_call_minute.kefu) as $one |
		($w["bridged"].cpu_seconds_per_call_minute.kefu) as $two |
		(.sides | map({(.side): .}) | add) as $s |
		"targets (issue 12; they apply at N=500): " +
		"cpu per call-minute one-leg \($one // "n/a") bridged \($two // "n/a") ratio \(if $one and $two then ($two / $one * 100 | round / 100) else "n/a" end) (≤ 2.2); " +
		"loss \(($s.caller.lost_frames + $s.agent.lost_frames + $s.caller.lost + $s.agent.lost)) (0); " +
		"relay delay p99 caller→agent \($s.agent.delay.p99_ms) ms, agent→caller \($s.caller.delay.p99_ms) ms (≤ 20); " +
		"crossed bridges \(.pairs.crossed) (0)"' "$OUT/peer.json" | tee -a "$OUT/summary.txt"
fi
