#!/usr/bin/env bash
# High-availability figures for BENCHMARKS.md ("Replicas on etcd"): a
# 3-member etcd cluster on loopback and 3 cpnd replicas (release build) on
# a generated 1,000-router network; install throughput through the leader,
# path queries on one replica and on three, etcd's size per policy, a
# standby's catch-up from a snapshot, and the takeover time after SIGKILL of
# the leader with the default lease (5 s). Needs etcd (Debian's etcd-server)
# and python3. Usage: benches/ha.sh [POLICIES] (default 100000).
# FILL="cpnctl load arguments" changes how it fills (for a million:
# FILL="--clients 32 --seconds 30 --mix 0:100:0 --mbps 0", so that link
# bandwidth lasts); SKIP_RATES=1 skips the throughput rows, SKIP_DEFRAG=1
# the compaction and defragmentation (each member stalls while it runs).
set -euo pipefail
cd "$(dirname "$0")/.."
B=target/release
POLICIES=${1:-100000}
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
now() { date +%s.%N; }

$B/cpnctl topology generate --routers 1000 --operators 3 --datacenters 50 --seed 1 -o "$W/g1k.yaml" >/dev/null

# etcd: 3 members, each its own data directory (same disk).
IC=""
for i in 0 1 2; do IC="$IC${IC:+,}e$i=http://127.0.0.1:$((24300 + i))"; done
for i in 0 1 2; do
    etcd --name e$i --data-dir "$W/e$i" \
        --listen-client-urls http://127.0.0.1:$((24200 + i)) --advertise-client-urls http://127.0.0.1:$((24200 + i)) \
        --listen-peer-urls http://127.0.0.1:$((24300 + i)) --initial-advertise-peer-urls http://127.0.0.1:$((24300 + i)) \
        --initial-cluster "$IC" --auto-compaction-mode revision --auto-compaction-retention 100000 \
        --quota-backend-bytes 8589934592 --log-level error >/dev/null 2>&1 &
done
STORE=etcd://127.0.0.1:24200,127.0.0.1:24201,127.0.0.1:24202
ETCDCTL="etcdctl --endpoints 127.0.0.1:24200,127.0.0.1:24201,127.0.0.1:24202"
sleep 2

replica() { # id port
    $B/cpnd --topology "$W/g1k.yaml" --store "$STORE" --replica-id "$1" --listen "127.0.0.1:$2" \
        --no-southbound --log-format json 2>"$W/$1.log" &
    echo $! >"$W/$1.pid"
}
ready() { # id: waits for "serving gRPC"
    until grep -q '"serving gRPC"' "$W/$1.log" 2>/dev/null; do sleep 0.05; done
}
replica a 50601; ready a
replica b 50602; replica c 50603; ready b; ready c
declare -A PORT=([a]=50601 [b]=50602 [c]=50603)
URLS=http://127.0.0.1:50601,http://127.0.0.1:50602,http://127.0.0.1:50603
LID=$($B/cpnctl --server $URLS cluster status --json | json "d['leader']")
L=http://127.0.0.1:${PORT[$LID]}
echo "leader: $LID at $L"

if [ -z "${SKIP_RATES:-}" ]; then
echo "== install throughput through the leader (16 clients, 10 s)"
$B/cpnctl --server "$L" load --clients 16 --seconds 10 --mix 0:100:0 --json >"$W/installs.json"
json "'%d installs/s, p50 %.1f ms, p99 %.1f ms, errors %s' % (d['ops']['install']['per_second'], d['ops']['install']['p50_ms'], d['ops']['install']['p99_ms'], d['ops']['install']['errors'])" <"$W/installs.json"

echo "== path queries: one replica, 16 clients, 10 s"
$B/cpnctl --server "$L" load --clients 16 --seconds 10 --mix 100:0:0 --json | json "'%d queries/s, p50 %.1f ms' % (d['per_second'], d['ops']['query']['p50_ms'])"
echo "== path queries: three replicas at once, 16 clients each, 10 s"
for u in ${URLS//,/ }; do
    $B/cpnctl --server "$u" load --clients 16 --seconds 10 --mix 100:0:0 --json >"$W/q-${u##*:}.json" &
done
wait $(jobs -p | tail -3) 2>/dev/null || true
python3 -c "
import glob,json
ds=[json.load(open(f)) for f in sorted(glob.glob('$W/q-*.json'))]
print('%d queries/s in all (%s)' % (sum(d['per_second'] for d in ds), ', '.join('%d' % d['per_second'] for d in ds)))"
fi

echo "== filling to $POLICIES policies"
have() { $B/cpnctl --server "$L" policy list --json | json "len(d)"; }
N=$(have)
while [ "$N" -lt "$POLICIES" ]; do
    # shellcheck disable=SC2086
    $B/cpnctl --server "$L" load ${FILL:---clients 16 --seconds 10 --mix 0:100:0} --json >/dev/null
    N=$(have)
    echo "  $N policies"
done

for r in a b c; do ps -o rss= -p "$(cat "$W/$r.pid")" | awk -v r="$r" '{printf "%s RSS: %.0f MB\n", r, $1/1024}'; done
echo "== etcd size"
$ETCDCTL endpoint status -w json | json "'%d bytes db on %s (%.0f bytes per policy)' % (d[0]['Status']['dbSize'], d[0]['Endpoint'], d[0]['Status']['dbSize']/$N)"
REV=$($ETCDCTL endpoint status -w json | json "d[0]['Status']['header']['revision']")
if [ -z "${SKIP_DEFRAG:-}" ]; then
    $ETCDCTL compact "$REV" >/dev/null
    # A member defragmenting a large database answers nothing meanwhile
    # (more than 5 s at a million policies).
    for e in 127.0.0.1:24200 127.0.0.1:24201 127.0.0.1:24202; do
        etcdctl --command-timeout 300s --endpoints $e defrag >/dev/null || echo "defrag of $e failed"
    done
    $ETCDCTL endpoint status -w json | json "'after compaction and defrag: %d bytes (%.0f bytes per policy)' % (d[0]['Status']['dbSize'], d[0]['Status']['dbSize']/$N)"
fi

echo "== standby catch-up from a snapshot of $N policies"
S=$(for r in a b c; do [ "$r" != "$LID" ] && echo $r && break; done)
kill "$(cat "$W/$S.pid")"
while kill -0 "$(cat "$W/$S.pid")" 2>/dev/null; do sleep 0.05; done
T0=$(now)
replica "$S" "${PORT[$S]}"; ready "$S"
T1=$(now)
echo "standby $S serves $N policies $(python3 -c "print('%.1f' % ($T1-$T0))") s after start"
grep '"replica ready"' "$W/$S.log" | head -1
ps -o rss= -p "$(cat "$W/$S.pid")" | awk '{printf "standby RSS: %.0f MB\n", $1/1024}'

echo "== takeover after SIGKILL of the leader (lease 5 s)"
echo '{from: '"$($B/cpnctl --server "$L" topology --json | json "d['routers'][0]['id']")"', compute: {kind: general, tflops: 0.01}}' >"$W/req.yaml"
kill -9 "$(cat "$W/$LID.pid")"
T0=$(now)
i=0
until $B/cpnctl --server $URLS policy install "after-kill-$i" --request "$W/req.yaml" >/dev/null 2>&1; do i=$((i + 1)); sleep 0.05; done
T1=$(now)
echo "first acknowledged install $(python3 -c "print('%.2f' % ($T1-$T0))") s after SIGKILL"
for r in a b c; do
    grep -h '"leading:' "$W/$r.log" 2>/dev/null | tail -1 || true
done
for r in a b c; do
    [ "$r" != "$LID" ] && ps -o rss= -p "$(cat "$W/$r.pid")" | awk -v r="$r" '{printf "%s RSS after the takeover: %.0f MB\n", r, $1/1024}'
done
$B/cpnctl --server $URLS cluster status
