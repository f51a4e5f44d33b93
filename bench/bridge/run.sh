#!/usr/bin/env bash
# bench/bridge/run.sh — the bridge benchmarks of issue 4 item 6, in one command.
#
# 1. latency: round trip of NOOP and of a small UID FETCH through the bridge
#    vs the engine directly, and push latency vs a direct IDLE client, against
#    the embedded devserver and against the e2e Dovecot (started with its own
#    state directory, shared with bench/run.sh, left running);
# 2. sessions: bridge memory per idle session at 1,000 and 5,000 sessions.
#
# The report is printed and, unless BENCH_README=0, written between the
# bridgebench markers of bench/README.md.
#
#   bash bench/bridge/run.sh
#   ROUNDS=30 PER_ROUND=50 PUSH=200 SESSIONS=1000,5000 bash bench/bridge/run.sh
#   BRIDGE_SERVERS=devserver bash bench/bridge/run.sh   # without Dovecot (no root needed)
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS="${ROUNDS:-20}"
PER_ROUND="${PER_ROUND:-50}"
PUSH="${PUSH:-100}"
SESSIONS="${SESSIONS:-1000,5000,10000}"
SERVERS="${BRIDGE_SERVERS:-devserver,dovecot}"
OUT=bench/out
BENCH_USER=bridgebench
BENCH_PASSWORD=bridgebench-pw-3

if [[ $SERVERS == *dovecot* ]]; then
	export IMAPBRIDGE_DOVECOT_DIR="${IMAPBRIDGE_BENCH_DOVECOT_DIR:-/tmp/imapbridge-bench-dovecot}"
	bash e2e/servers/dovecot.sh start >&2
	eval "$(bash e2e/servers/dovecot.sh env)"
	userfile="$IMAPBRIDGE_DOVECOT_DIR/passwd.d/$BENCH_USER"
	if [[ ! -s $userfile ]]; then
		tmp=$(mktemp "$IMAPBRIDGE_DOVECOT_DIR/passwd.d/.new-XXXXXX")
		echo "$BENCH_USER:$BENCH_PASSWORD::::::" >"$tmp"
		chmod 644 "$tmp"
		mv "$tmp" "$userfile"
	fi
	export BRIDGEBENCH_DOVECOT_USER="$BENCH_USER" BRIDGEBENCH_DOVECOT_PASSWORD="$BENCH_PASSWORD"
fi

mkdir -p "$OUT/bin"
go build -o "$OUT/bin/" ./bench/bridge/cmd/latency ./bench/bridge/cmd/sessions
report="$OUT/bridge-report.md"
{
	echo "##### Latency"
	echo
	"$OUT/bin/latency" -servers "$SERVERS" -rounds "$ROUNDS" -per-round "$PER_ROUND" -push "$PUSH"
	echo "##### Memory per idle session"
	echo
	"$OUT/bin/sessions" -n "$SESSIONS"
} | tee "$report"

if [[ ${BENCH_README:-1} == 1 ]]; then
	readme=bench/README.md
	begin='<!-- bridgebench:begin -->'
	end='<!-- bridgebench:end -->'
	if ! grep -qF "$begin" "$readme"; then
		printf '\n%s\n%s\n' "$begin" "$end" >>"$readme"
	fi
	awk -v b="$begin" -v e="$end" -v f="$report" '
		$0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip { print }' "$readme" >"$readme.tmp"
	mv "$readme.tmp" "$readme"
fi
