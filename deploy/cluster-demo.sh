#!/usr/bin/env bash
# Several kefu nodes, one hotline, on this machine: a private PostgreSQL
# cluster in a temporary directory, two kefu nodes on it, and Kamailio's
# dispatcher (deploy/kamailio/kamailio.cfg) in front. Ctrl-C stops them all
# and removes the directory.
#
#   deploy/cluster-demo.sh                 # from the repository: builds kefu
#   KEFU_BIN=/usr/local/bin/kefu deploy/cluster-demo.sh
#
# Needs Debian's kamailio and postgresql packages. Ports (loopback only):
# SIP_PORT (5060) for callers and phones, NODES_PORT (5070) where the nodes
# talk to the proxy, the nodes on 5061 and 5062 (SIP), 8081 and 8082 (ops
# HTTP), RTP 20000-20999 and 21000-21999. KEFU_CONFIG names a kefu.yaml
# for both nodes (default: the embedded hotline).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
SIP_PORT="${SIP_PORT:-5060}"
NODES_PORT="${NODES_PORT:-5070}"
PG_PORT="${PG_PORT:-5439}"

need() { command -v "$1" >/dev/null || { echo "cluster-demo: $1 not found (apt-get install $2)" >&2; exit 1; }; }
need kamailio kamailio
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$pgbin/initdb" ] || { echo "cluster-demo: PostgreSQL not found (apt-get install postgresql)" >&2; exit 1; }

dir="$(mktemp -d /tmp/kefu-demo.XXXXXX)"
chmod 755 "$dir"
pids=()
stop() {
	trap - INT TERM EXIT
	echo
	echo "stopping…"
	# kefu first (it drains: calls in progress get up to -grace), then the
	# proxy, then the database.
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "${pgpid:-}" ] && { kill -INT "$pgpid" 2>/dev/null || true; wait "$pgpid" 2>/dev/null || true; }
	rm -rf "$dir"
	echo "stopped; $dir removed"
}
trap stop INT TERM EXIT

# kefu
if [ -n "${KEFU_BIN:-}" ]; then
	kefu="$KEFU_BIN"
else
	echo "building kefu…"
	(cd "$here/.." && go build -o "$dir/kefu" ./cmd/kefu)
	kefu="$dir/kefu"
fi

# PostgreSQL, as the postgres user when we are root (it refuses root).
as=()
if [ "$(id -u)" = 0 ]; then
	as=(runuser -u postgres --)
	mkdir -p "$dir/pg" && chown postgres: "$dir/pg"
fi
password="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$password" >"$dir/pw" && chmod 644 "$dir/pw"
"${as[@]}" "$pgbin/initdb" -D "$dir/pg/data" -U kefu --pwfile "$dir/pw" -A scram-sha-256 -E UTF8 --locale C >"$dir/initdb.log"
rm -f "$dir/pw"
"${as[@]}" "$pgbin/postgres" -D "$dir/pg/data" -c listen_addresses=127.0.0.1 -c port="$PG_PORT" \
	-c unix_socket_directories="$dir/pg" >"$dir/postgres.log" 2>&1 &
pgpid=$!
for _ in $(seq 100); do grep -q "ready to accept connections" "$dir/postgres.log" && break; sleep 0.1; done
grep -q "ready to accept connections" "$dir/postgres.log" || { cat "$dir/postgres.log"; exit 1; }
store="postgres://kefu:$password@127.0.0.1:$PG_PORT/postgres"

# Two kefu nodes on the one database. The proxy's address is trusted:
# every call comes from it.
config=()
[ -n "${KEFU_CONFIG:-}" ] && config=(-config "$KEFU_CONFIG")
for i in 1 2; do
	mkdir -p "$dir/node$i"
	KEFU_STORE="$store" "$kefu" run "${config[@]}" -listen "127.0.0.1:506$i" -http "127.0.0.1:808$i" \
		-rtp-ports "2${i}000-2${i}999" -data "$dir/node$i" -trusted 127.0.0.1 >"$dir/node$i.log" 2>&1 &
	pids+=($!)
done
for i in 1 2; do
	for _ in $(seq 300); do curl -fs "http://127.0.0.1:808$i/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
	curl -fs "http://127.0.0.1:808$i/healthz" >/dev/null 2>&1 || { echo "node $i did not start:"; cat "$dir/node$i.log"; exit 1; }
done

# Kamailio in front of them.
printf '1 sip:127.0.0.1:5061 0 0 name=node1\n1 sip:127.0.0.1:5062 0 0 name=node2\n' >"$dir/dispatcher.list"
kamailio -f "$here/kamailio/kamailio.cfg" -DD -E -Y "$dir" -w "$dir" -m 64 -M 8 \
	-A PUBLIC_PORT="$SIP_PORT" -A NODES_PORT="$NODES_PORT" -A "DISPATCHER_LIST=\"$dir/dispatcher.list\"" \
	-A "CTL_SOCKET=\"unix:$dir/kamailio.ctl\"" -A 'TRUNKS="127.0.0.1/32"' -A PING_INTERVAL=1 >"$dir/kamailio.log" 2>&1 &
pids+=($!)
sleep 1
kill -0 "${pids[-1]}" 2>/dev/null || { cat "$dir/kamailio.log"; exit 1; }

cat <<EOF

Two kefu nodes behind Kamailio, one PostgreSQL ($dir):

  call the hotline:      $kefu dial -keys 1@3s -for 20s sip:hotline@127.0.0.1:$SIP_PORT
                         (or any softphone: sip:hotline@127.0.0.1:$SIP_PORT)
  the nodes' ops pages:  http://127.0.0.1:8081/  http://127.0.0.1:8082/
  list a number on one:  curl -H 'Content-Type: application/json' -d '{"pattern":"13900000077","reason":"demo","added_by":"me","action":{"kind":"reject","code":486}}' http://127.0.0.1:8081/api/nuisance
                         (then $kefu dial -from sip:13900000077@127.0.0.1 sip:hotline@127.0.0.1:$SIP_PORT is refused on both)
  the dispatcher:        kamcmd -s unix:$dir/kamailio.ctl dispatcher.list
  drain node 1:          kill -TERM ${pids[0]}   (it answers OPTIONS 503 and drops out; calls go to node 2)
  logs:                  $dir/node1.log $dir/node2.log $dir/kamailio.log

Ctrl-C stops everything.
EOF
wait "${pids[@]}" || true
