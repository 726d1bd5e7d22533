#!/usr/bin/env bash
# Load test of the home and analogs surfaces on the demo marketplace (scale 1), on loopback.
# Needs wrk (Debian: apt-get install wrk). Usage: benchmarks/load/run.sh [seconds] [connections...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
shift || true
connections=("${@:-8 32}")
port=5099
data=$(mktemp -d)
dotnet build -c Release Assistant.Api -v q -nologo > /dev/null
dll=Assistant.Api/bin/Release/net10.0/Assistant.Api.dll
( cd "$data" && exec dotnet "$OLDPWD/$dll" --urls "http://127.0.0.1:$port" --Logging:LogLevel:Default=Warning ) > "$data/service.log" 2>&1 &
service=$!
trap 'kill $service 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
  sleep 2
done
echo "cores: $(nproc); date: $(date -u +%F); service pid $service"
for c in ${connections[@]}; do
  for surface in home analogs; do
    # warm-up, then the measured run
    wrk -t2 -c"$c" -d5s -s "benchmarks/load/$surface.lua" "http://127.0.0.1:$port" > /dev/null
    echo "== $surface, $c connections, ${seconds}s"
    wrk -t2 -c"$c" -d"${seconds}s" --latency -s "benchmarks/load/$surface.lua" "http://127.0.0.1:$port" | grep -E "Requests/sec|Latency|50%|90%|99%|requests in|Non-2xx"
  done
done
echo "== stage timings of 200 home requests (ms, mean): candidates scoring ranking explanations"
for i in $(seq 1 200); do
  curl -s "http://127.0.0.1:$port/v1/users/user-$(printf %05d $(( (i * 7919) % 2000 )))/recommendations?count=20"
  echo
done | python3 -c '
import json, sys
rows = [json.loads(l)["timings"] for l in sys.stdin if l.strip()]
keys = ["candidates", "scoring", "ranking", "explanations"]
print("  ".join(f"{k} {sum(r[k] for r in rows) / len(rows):.3f}" for k in keys))
'
