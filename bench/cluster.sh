#!/usr/bin/env bash
# bench/cluster.sh — the cluster load test (issue 17; see bench/README.md,
# "The cluster load test").
#
# Kamailio's dispatcher (deploy/kamailio/kamailio.cfg) in front of two kefu
# nodes that share a private PostgreSQL (-store postgres://…), all on
# loopback. sipp places N calls at R calls/s through the proxy
# (bench/uac_load.xml); every caller's SDP points at bench/rtppeer, which
# answers each of kefu's streams with paced RTP of its own, so media flows
# both ways. Once all N calls carry media, a window of STEADY seconds
# measures CPU; then the calls hang up. Reports call setup (INVITE→200
# through the proxy, with kefu screening each call against PostgreSQL),
# failed calls, RTP loss in both directions, and the CPU of each kefu node,
# Kamailio, PostgreSQL, sipp and rtppeer.
#
# Usage: bench/cluster.sh [-n N] [-r R] [-s STEADY]
#   -n N       concurrent calls over both nodes (env N, default 2000)
#   -r R       new calls per second (env R, default 50)
#   -s STEADY  measurement window in seconds (env STEADY, default 15)
# Other environment: RT (a real-time priority, e.g. 10: everything measured
# — PostgreSQL, Kamailio, both kefu nodes, rtppeer, sipp — runs under
# `chrt -f RT`; the builds do not), OUT (result directory, default a new
# /tmp/kefu-cluster.*), KEFU_BIN (a kefu binary instead of building the
# working tree), REV (the revision the summary names), LOG_LEVEL (kefu's,
# default info), FSYNC (PostgreSQL's fsync, default on). Ports, all on
# 127.0.0.1 and below the kernel's ephemeral range (32768 up), where no
# outgoing connection takes them: PUBLIC_PORT (14060, the proxy's side for
# callers), NODES_PORT (14070, its side for the nodes), NODE_PORT (14061:
# the nodes' SIP ports are NODE_PORT and NODE_PORT+1), HTTP_PORT (14081 and
# 14082), PG_PORT (14432), SIPP_PORT (14090), CALLER_MEDIA (14100) and
# AGENT_MEDIA (14102, unused) for rtppeer, RTP_LO (16000: kefu's RTP ports,
# 2N+200 a node, the second node's from RTP_LO+2N+400).
# Needs sipp, curl, awk, kamailio and postgresql; jq for the verdict line.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

N=${N:-2000}
R=${R:-50}
STEADY=${STEADY:-15}
while getopts "n:r:s:h" opt; do
	case $opt in
	n) N=$OPTARG ;;
	r) R=$OPTARG ;;
	s) STEADY=$OPTARG ;;
	*) usage ;;
	esac
done

PUBLIC_PORT=${PUBLIC_PORT:-14060}
NODES_PORT=${NODES_PORT:-14070}
NODE_PORT=${NODE_PORT:-14061}
HTTP_PORT=${HTTP_PORT:-14081}
PG_PORT=${PG_PORT:-14432}
SIPP_PORT=${SIPP_PORT:-14090}
CALLER_MEDIA=${CALLER_MEDIA:-14100}
AGENT_MEDIA=${AGENT_MEDIA:-14102}
RTP_LO=${RTP_LO:-16000}
SPAN=$((2 * N + 200)) # RTP ports a node may use: every call on one node, plus slack
LOG_LEVEL=${LOG_LEVEL:-info}
FSYNC=${FSYNC:-on}
RAMP=$(((N + R - 1) / R))       # seconds sipp needs to start N calls
HOLD=$((RAMP + STEADY + 20))   # call length: ramp, settle, window, margin
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
OUT=${OUT:-$(mktemp -d /tmp/kefu-cluster.XXXXXX)}
mkdir -p "$OUT"
chmod 755 "$OUT"
rt=()
[ -n "${RT:-}" ] && rt=(chrt -f "$RT")

for tool in sipp curl kamailio; do
	command -v "$tool" >/dev/null || {
		echo "cluster.sh: $tool is not installed (apt-get install $([ $tool = sipp ] && echo sip-tester || echo $tool))" >&2
		exit 1
	}
done
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || {
	echo "cluster.sh: PostgreSQL not found (apt-get install postgresql)" >&2
	exit 1
}

# Every process this script starts, stopped on any exit, last started
# first: sipp and rtppeer, the kefu nodes (SIGTERM: they drain), Kamailio,
# PostgreSQL (SIGINT: a fast shutdown).
PGPID=
cleanup() {
	stop_all
	if [ -n "$PGPID" ]; then
		kill -INT "$PGPID" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$PGPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$PGPID" 2>/dev/null || true
	fi
	rm -rf "$OUT/pg/data"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_fds $((N + 512)) "$N calls"



# busy: how many cores the machine keeps busy over 3 s (/proc/stat: all
# but idle and iowait).
busy() {
	local a b
	a=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
	sleep 3
	b=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
	echo "$a $b" | awk '{printf "%.2f", ($3 - $1) / ($3 - $1 + $4 - $2) * '"$(nproc)"'}'
}

# family PID: PID and all its descendants, one a line.
family() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			keep[root] = 1; print root
			do {
				more = 0
				for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; print p; more = 1 }
			} while (more)
		}'
}

# pct: numbers, one a line → count, p50, p99 and max (nearest rank).
pct() {
	sort -g | awk '{v[NR] = $1} END {
		if (NR == 0) { print "no samples"; exit }
		i = int(NR * 0.50 + 0.5); if (i < 1) i = 1; p50 = v[i]
		i = int(NR * 0.99 + 0.5); if (i < 1) i = 1; p99 = v[i]
		printf "%d calls: p50 %s  p99 %s  max %s", NR, p50, p99, v[NR]
	}'
}

BEFORE=$(busy)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
log "machine before the run: $BEFORE of $(nproc) cores busy, load average $LOADAVG"

log "building into $OUT"
(cd "$REPO" && go build -o "$OUT/rtppeer" ./bench/rtppeer)
if [ -n "${KEFU_BIN:-}" ]; then
	cp "$KEFU_BIN" "$OUT/kefu"
else
	(cd "$REPO" && go build -o "$OUT/kefu" ./cmd/kefu)
fi

# PostgreSQL in $OUT/pg, as the postgres user when we are root (it refuses
# root), as deploy/cluster-demo.sh starts it.
as=()
mkdir -p "$OUT/pg"
if [ "$(id -u)" = 0 ]; then
	as=(runuser -u postgres --)
	chown postgres: "$OUT/pg"
fi
password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$password" >"$OUT/pg/pw" && chmod 644 "$OUT/pg/pw"
"${as[@]}" "$pgbin/initdb" -D "$OUT/pg/data" -U kefu --pwfile "$OUT/pg/pw" -A scram-sha-256 -E UTF8 --locale C >"$OUT/initdb.log" 2>&1
rm -f "$OUT/pg/pw"
"${rt[@]}" "${as[@]}" "$pgbin/postgres" -D "$OUT/pg/data" -c listen_addresses=127.0.0.1 -c port="$PG_PORT" \
	-c unix_socket_directories="$OUT/pg" -c fsync="$FSYNC" >"$OUT/postgres.log" 2>&1 &
RUNPG=$!
PGPID=$RUNPG
for _ in $(seq 100); do
	grep -q "ready to accept connections" "$OUT/postgres.log" && break
	kill -0 "$RUNPG" 2>/dev/null || break
	sleep 0.1
done
grep -q "ready to accept connections" "$OUT/postgres.log" || {
	cat "$OUT/postgres.log" >&2
	exit 1
}
# runuser stays in between and passes no signal on: stop the postmaster
# itself.
PGPID=$(head -1 "$OUT/pg/data/postmaster.pid")
STORE="postgres://kefu:$password@127.0.0.1:$PG_PORT/postgres"

# The kefu nodes: bench/kefu-bench.yaml (answer at once, every call longer
# than the run), the proxy trusted. Node 1 starts first and runs the
# schema's migrations; node 2 finds them done.
KEFU=()
for i in 1 2; do
	sip=$((NODE_PORT + i - 1)) http=$((HTTP_PORT + i - 1)) lo=$((RTP_LO + (i - 1) * (SPAN + 200)))
	log "kefu node $i: SIP 127.0.0.1:$sip, HTTP $http, RTP $lo-$((lo + SPAN))"
	KEFU_STORE="$STORE" "${rt[@]}" "$OUT/kefu" run -listen "127.0.0.1:$sip" -http "127.0.0.1:$http" \
		-rtp-ports "$lo-$((lo + SPAN))" -data "$OUT/node$i" -config "$BENCH/kefu-bench.yaml" \
		-log-level "$LOG_LEVEL" -grace 1s -trusted 127.0.0.1 2>"$OUT/node$i.log" &
	KEFU+=($!)
	PIDS+=($!)
	for _ in $(seq 300); do
		curl -fs "http://127.0.0.1:$http/healthz" >/dev/null 2>&1 && break
		kill -0 "${KEFU[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	curl -fs "http://127.0.0.1:$http/healthz" >/dev/null 2>&1 || {
		echo "cluster.sh: kefu node $i did not start:" >&2
		tail "$OUT/node$i.log" >&2
		exit 1
	}
done

# Kamailio in front, with the settings deploy/cluster-demo.sh gives it;
# sipp is the trunk (exempt from pike's per-source limit).
printf '1 sip:127.0.0.1:%d 0 0 name=node1\n1 sip:127.0.0.1:%d 0 0 name=node2\n' "$NODE_PORT" $((NODE_PORT + 1)) >"$OUT/dispatcher.list"
"${rt[@]}" kamailio -f "$REPO/deploy/kamailio/kamailio.cfg" -DD -E -Y "$OUT" -w "$OUT" -m 256 -M 16 \
	-A PUBLIC_PORT="$PUBLIC_PORT" -A NODES_PORT="$NODES_PORT" -A "DISPATCHER_LIST=\"$OUT/dispatcher.list\"" \
	-A "CTL_SOCKET=\"unix:$OUT/kamailio.ctl\"" -A 'TRUNKS="127.0.0.1/32"' -A PING_INTERVAL=1 >"$OUT/kamailio.log" 2>&1 &
KAM=$!
PIDS+=("$KAM")
# Both nodes in the rotation: they answered an OPTIONS probe.
for _ in $(seq 50); do
	sleep 0.2
	kill -0 "$KAM" 2>/dev/null || break
	[ "$(kamcmd -s "unix:$OUT/kamailio.ctl" dispatcher.list 2>/dev/null | grep -c 'FLAGS: AP')" = 2 ] && break
done
kill -0 "$KAM" 2>/dev/null || {
	tail "$OUT/kamailio.log" >&2
	exit 1
}
kamcmd -s "unix:$OUT/kamailio.ctl" dispatcher.list >"$OUT/dispatcher.txt" 2>&1 || true

"${rt[@]}" "$OUT/rtppeer" -caller "127.0.0.1:$CALLER_MEDIA" -agent "127.0.0.1:$AGENT_MEDIA" -pidfile "$OUT/pids" \
	-status "$OUT/peer.status" -json "$OUT/peer.json" -timeline "$OUT/timeline.txt" -windows "ramp,$N-calls" >"$OUT/peer.txt" 2>"$OUT/peer.log" &
PEER=$!
PIDS+=("$PEER")
sleep 0.3
kill -0 "$PEER" 2>/dev/null || {
	cat "$OUT/peer.log" >&2
	exit 1
}

log "sipp: $N calls at $R/s through the proxy, each ${HOLD}s (ramp ${RAMP}s)"
(cd "$OUT" && exec "${rt[@]}" sipp -sf "$BENCH/uac_load.xml" -i 127.0.0.1 -p "$SIPP_PORT" "127.0.0.1:$PUBLIC_PORT" \
	-r "$R" -l "$N" -m "$N" -d "$((HOLD * 1000))" -key rtp_port "$CALLER_MEDIA" \
	-trace_rtt -rtt_freq 1 -trace_stat -fd 5 -trace_err -nostdin -default_behaviors all,-abortunexp \
	-timeout "$((HOLD + RAMP + 60))s" >"$OUT/sipp.out" 2>&1) &
SIPP=$!
PIDS+=("$SIPP")

# The measured processes, for rtppeer's CPU samples: every Kamailio and
# PostgreSQL process under one name each (rtpmeter sums them).
{
	echo "kefu1=${KEFU[0]}"
	echo "kefu2=${KEFU[1]}"
	echo "sipp=$SIPP"
	family "$KAM" | sed 's/^/kamailio=/'
	family "$PGPID" | sed 's/^/postgres=/'
} >"$OUT/pids"
# Window 1, the ramp: what setting up the calls costs (SIP, screening in
# PostgreSQL, the proxy) on top of the media of the calls already up.
kill -USR1 "$PEER"

active=0
deadline=$((SECONDS + RAMP + 30))
while [ $SECONDS -lt $deadline ]; do
	active=$(status caller_active)
	[ "${active:-0}" -ge "$N" ] && break
	kill -0 "$SIPP" 2>/dev/null || break
	sleep 0.5
done
log "ramp done: ${active:-0} of $N calls carry media"
kill -USR2 "$PEER"
sleep 2

metrics() {
	local i
	for i in 1 2; do curl -fs "http://127.0.0.1:$((HTTP_PORT + i - 1))/metrics" >"$OUT/metrics$i-$1.txt" || true; done
}
# Window 2: all N calls up, media both ways, no SIP.
kill -USR1 "$PEER"
log "window: ${STEADY}s"
sleep "$STEADY"
kill -USR2 "$PEER"
active_end=$(status caller_active)

log "waiting for the calls to end"
SIPP_RC=0
wait "$SIPP" || SIPP_RC=$?
sleep 2
metrics end
kill -TERM "$PEER" 2>/dev/null || true
wait "$PEER" || true

# ---- summary ----
# counter FILE NAME: a metric's value (summed over label sets).
counter() { awk -v n="$2" '$1 == n || index($1, n "{") == 1 {s += $2} END {printf "%d", s}' "$1" 2>/dev/null || echo 0; }
{
	echo "kefu cluster load test: N=$N R=$R/s STEADY=${STEADY}s, 2 kefu nodes + Kamailio + PostgreSQL (fsync $FSYNC)${RT:+, under chrt -f $RT}, $(date -u +%FT%TZ), kefu ${REV:-$(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo '?')}, $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -r)"
	echo "machine before the run: $BEFORE of $(nproc) cores busy, load average $LOADAVG (others' work; see the window's line too)"
	echo "calls carrying media at window start/end: ${active:-0} / ${active_end:-0}"
	rtt=$(ls "$OUT"/uac_load_*_rtt.csv 2>/dev/null | head -1)
	if [ -n "$rtt" ]; then
		echo "call setup INVITE→200 through the proxy (sipp, ms): $(awk -F';' 'NR > 1 && $3 == 1 {print $2}' "$rtt" | pct)"
		# By quarter of the ramp: how setup grows with the calls already up.
		for q in 0 1 2 3; do
			echo "  calls $((q * N / 4 + 1))-$(((q + 1) * N / 4)): $(awk -F';' -v a=$((q * N / 4)) -v b=$(((q + 1) * N / 4)) \
				'NR > 1 && $3 == 1 && ++n > a && n <= b {print $2}' "$rtt" | pct)"
		done
	fi
	stat=$(ls "$OUT"/uac_load_*_.csv 2>/dev/null | head -1)
	if [ -n "$stat" ]; then
		awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) h[i] = $i} END {
			for (i = 1; i <= NF; i++) c[h[i]] = $i
			printf "sipp: %s successful, %s failed calls (exit %s); INVITE→200 by sipp'"'"'s partition (ms, calls):", c["SuccessfulCall(C)"], c["FailedCall(C)"], rc
			for (i = 1; i <= NF; i++) if (h[i] ~ /^ResponseTimeRepartition1_/ && $i > 0) {
				b = h[i]; sub(/^ResponseTimeRepartition1_/, "", b); printf " %s: %s", b, $i
			}
			print ""
		}' rc="$SIPP_RC" "$stat"
	fi
	unexp=$(cat "$OUT"/uac_load_*_errors.log 2>/dev/null | grep -c 'unexpected message' || true)
	[ "${unexp:-0}" -gt 0 ] && echo "sipp ignored $unexp unexpected messages (e.g. a 180 that Kamailio's workers passed on after the 200: $OUT/uac_load_*_errors.log)"
	for i in 1 2; do
		m="$OUT/metrics$i-end.txt"
		printf 'kefu node %d: %d calls answered, %d screened; RTP received %d, lost %d (counted as each call ends)' "$i" \
			"$(counter "$m" kefu_calls_answered_total)" "$(counter "$m" kefu_screened_total)" \
			"$(counter "$m" kefu_rtp_packets_received_total)" "$(counter "$m" kefu_rtp_packets_lost_total)"
		awk '
			/^kefu_answer_processing_seconds_bucket/ { match($0, /le="[^"]+"/); n++; les[n] = substr($0, RSTART + 4, RLENGTH - 5); cnt[n] = $2 }
			/^kefu_answer_processing_seconds_count/ { total = $2 }
			END {
				if (total == 0) { print ""; exit }
				lo = 0; prev = 0
				for (i = 1; i <= n; i++) if (cnt[i] >= 0.99 * total) {
					hi = (les[i] == "+Inf") ? lo : les[i]
					printf "; its answer processing p99 ≈ %.1f ms\n", (lo + (hi - lo) * (0.99 * total - prev) / (cnt[i] - prev > 0 ? cnt[i] - prev : 1)) * 1000; exit
				} else { lo = les[i]; prev = cnt[i] }
			}' "$m"
	done
	grep -h 'level=ERROR\|"level":"ERROR"' "$OUT"/node?.log 2>/dev/null | head -3 | sed 's/^/  kefu error: /' || true
	# rtppeer's report without the agent side and the relay (no agents here).
	awk '/^rtppeer agent side/ {skip = 1; next} /^[^ ]/ {skip = 0} skip || /^  (relay|per leg|agent  side)|^bridges/ {next} {print}' "$OUT/peer.txt"
	echo "results in $OUT"
} | tee "$OUT/summary.txt"

# The targets of issue 17 (at N=2000, R=50).
if command -v jq >/dev/null && [ -s "$OUT/peer.json" ]; then
	jq -r --arg rtt "$(awk -F';' 'NR > 1 && $3 == 1 {print $2}' "$OUT"/uac_load_*_rtt.csv 2>/dev/null | pct)" '
		(.sides[] | select(.side == "caller")) as $c | .windows[-1] as $w |
		"targets (issue 17): setup \($rtt) ms (p99 ≤ 20); kefu → callers lost \($c.lost) (0); " +
		"cpu kefu1 \($w.cpu_seconds.kefu1 / $w.seconds * 100 | round)% kefu2 \($w.cpu_seconds.kefu2 / $w.seconds * 100 | round)% " +
		"kamailio \($w.cpu_seconds.kamailio / $w.seconds * 100 | round)% postgres \($w.cpu_seconds.postgres / $w.seconds * 100 | round)% " +
		"rtppeer \($w.cpu_seconds.rtppeer / $w.seconds * 100 | round)% of a core; others \($w.other_cores_busy * 100 | round / 100) cores"' \
		"$OUT/peer.json" 2>/dev/null | tee -a "$OUT/summary.txt" || true
fi
