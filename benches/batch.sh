#!/usr/bin/env bash
# Whole-process batch figures for BENCHMARKS.md (issue 20, goals 2 and 3):
# `cpnctl path --requests FILE --json` against a program that loads the
# same YAML and runs one plain Dijkstra per request
# (examples/plain_dijkstra.rs), both timed with /usr/bin/time, alternated
# RUNS times. Requests: the issue's mix (random headend, 100 TFLOPS of a
# random pool kind the network has, default objective and MSD).
# Usage: benches/batch.sh [ROUTERS] [DATACENTERS] [QUERIES] [RUNS]
# (default 10000 500 1000 3). Needs python3.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUTERS=${1:-10000}
DCS=${2:-500}
QUERIES=${3:-1000}
RUNS=${4:-3}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cargo build --release --bin cpnctl --example plain_dijkstra >/dev/null 2>&1
B=target/release

$B/cpnctl topology generate --shape nearest --routers "$ROUTERS" --datacenters "$DCS" --seed 1 -o "$W/net.yaml" >/dev/null
python3 - "$W/net.yaml" "$QUERIES" >"$W/requests.jsonl" <<'EOF'
import json, random, re, sys
text = open(sys.argv[1]).read()
routers = text[text.index("\nrouters:"):text.index("\nlinks:")]
ids = re.findall(r"^- id: (\S+)", routers, re.M)
kinds = sorted(set(re.findall(r"^\s+- kind: (\w+)", text[text.index("\ndatacenters:"):], re.M)))
rng = random.Random(1)
for _ in range(int(sys.argv[2])):
    print(json.dumps({"from": rng.choice(ids), "compute": {"kind": rng.choice(kinds), "tflops": 100}}))
EOF
echo "network: $ROUTERS routers, $DCS data centers ($(du -h "$W/net.yaml" | cut -f1) of YAML); $(wc -l <"$W/requests.jsonl") requests"

timed() { # label command...: wall seconds and peak RSS
    local label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$W/time" "$@" >"$W/out" 2>/dev/null || true
    read -r secs kb <"$W/time"
    echo "$label: ${secs} s, peak ${kb} KB, $(wc -l <"$W/out") lines"
}
for run in $(seq "$RUNS"); do
    echo "-- run $run"
    timed "cpnctl path --requests --json" $B/cpnctl path --topology "$W/net.yaml" --requests "$W/requests.jsonl" --json
    answered=$(grep -c '"path"' "$W/out" || true)
    echo "   ($answered answered)"
    timed "plain Dijkstra per request" $B/examples/plain_dijkstra "$W/net.yaml" "$W/requests.jsonl"
    timed "cpnctl topology check (load alone)" $B/cpnctl topology check "$W/net.yaml"
done
