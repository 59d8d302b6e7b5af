#!/usr/bin/env bash
# Times what a new user does first, as the README tells it: clone berth, start
# it (`npm start`: set-up, then the server), create a workload from a folder
# with the CLI and get the answer to a first request. Prints each step's
# seconds and the total. Uses its own port, data directory and token, and
# removes everything it made. Usage: bash scripts/time-first-request.sh [REPO]
set -euo pipefail
repo="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
work="$(mktemp -d /tmp/berth-first-XXXXXX)"
port=7391
token="first-request-token-$RANDOM$RANDOM"
server=""
cleanup() {
  if [[ -n "$server" ]]; then kill -TERM -- "-$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  docker ps -aq --filter "label=berth.owner=newcomer" | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t0=$(now)
git clone --quiet "$repo" "$work/berth"
cd "$work/berth"
echo "clone: $(since "$t0") s"

t1=$(now)
export BERTH_PORT=$port BERTH_DATA_DIR="$work/data" BERTH_TOKENS="newcomer:$token" BERTH_LOG_LEVEL=warn
set -m
npm start >"$work/server.log" 2>&1 &
server=$!
set +m
until curl -fs "http://127.0.0.1:$port/asyncapi.json" >/dev/null 2>&1; do
  if ! kill -0 "$server" 2>/dev/null; then cat "$work/server.log"; exit 1; fi
  sleep 0.2
done
echo "npm start until berth answers: $(since "$t1") s"

export BERTH_URL="http://127.0.0.1:$port" BERTH_TOKEN="$token"
t2=$(now)
npx berth create hello --code examples/hello
npx berth request hello '{"name":"newcomer"}'
echo "create + first request through the CLI: $(since "$t2") s"
echo "total, clone to first answer: $(since "$t0") s"
npx berth rm hello >/dev/null
