#!/usr/bin/env bash
# bench/bridge/find.sh — typed search and sort through the bridge vs the
# engine directly (issue 16): SEARCH TEXT and SORT (REVERSE DATE) on the
# 10,000-message corpus in the bench Dovecot (bench/run.sh's instance and
# user; the corpus is appended once and reused). Not part of CI.
#
#   bash bench/bridge/find.sh
#   ROUNDS=10 PER_ROUND=5 bash bench/bridge/find.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

export IMAPBRIDGE_DOVECOT_DIR="${IMAPBRIDGE_BENCH_DOVECOT_DIR:-/tmp/imapbridge-bench-dovecot}"
ROUNDS="${ROUNDS:-5}"
PER_ROUND="${PER_ROUND:-3}"
MESSAGES=10000
BENCH_USER=bench
BENCH_PASSWORD=bench-pw-7
OUT=bench/out

bash e2e/servers/dovecot.sh start >&2
eval "$(bash e2e/servers/dovecot.sh env)"
userfile="$IMAPBRIDGE_DOVECOT_DIR/passwd.d/$BENCH_USER"
if [[ ! -s $userfile ]]; then
	tmp=$(mktemp "$IMAPBRIDGE_DOVECOT_DIR/passwd.d/.new-XXXXXX")
	echo "$BENCH_USER:$BENCH_PASSWORD::::::userdb_quota_rule=*:storage=0" >"$tmp"
	chmod 644 "$tmp"
	mv "$tmp" "$userfile"
fi
export IMAPBENCH_ADDR="$IMAPBRIDGE_DOVECOT_PLAIN" IMAPBENCH_USER="$BENCH_USER" IMAPBENCH_PASSWORD="$BENCH_PASSWORD"
mkdir -p "$OUT/bin"
go build -o "$OUT/bin/" ./bench/cmd/gencorpus ./bench/bridge/cmd/findbench
"$OUT/bin/gencorpus" -n "$MESSAGES"
"$OUT/bin/findbench" -rounds "$ROUNDS" -per-round "$PER_ROUND" | tee "$OUT/find-report.md"
