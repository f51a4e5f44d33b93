#!/usr/bin/env bash
# bench/bridge/soak.sh — the bridge's 10-minute soak (issue 19 item 5): churn,
# commands, pushes and a fault every minute; RSS and goroutines sampled every
# 10 s; writes bench/soak/soak.{csv,svg,md} (the committed result) unless OUT
# says otherwise. Not in CI: it takes DURATION (default 10m) of wall time and
# most of two CPUs.
#
#   bash bench/bridge/soak.sh
#   DURATION=3m SESSIONS=100 CHURN=25 OUT=/tmp/soak bash bench/bridge/soak.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ulimit -n "$(ulimit -Hn)"
out="${OUT:-bench/soak/soak}"
go run ./bench/bridge/cmd/soak -duration "${DURATION:-10m}" -sessions "${SESSIONS:-200}" -churn "${CHURN:-25}" -out "$out"
