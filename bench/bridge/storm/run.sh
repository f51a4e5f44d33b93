#!/usr/bin/env bash
# bench/bridge/storm/run.sh — the reconnect-storm benchmark (issue 19 item 2):
# builds the SDK's dist if it is missing, then runs bench/bridge/cmd/storm.
#
#   bash bench/bridge/storm/run.sh                 # 1,000 clients, bridge down 20 s (~1.5 min)
#   N=200 DOWN=10s bash bench/bridge/storm/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
if [[ ! -f web/sdk/dist/index.js ]]; then
	(cd web && npm ci --no-audit --no-fund && npm run build) >&2
fi
ulimit -n "$(ulimit -Hn)"
go run ./bench/bridge/cmd/storm -n "${N:-1000}" -down "${DOWN:-20s}"
