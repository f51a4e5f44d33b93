#!/usr/bin/env bash
# bench/bridge/fanout.sh — push fan-out (issue 19 item 4): N sessions idle on
# one mailbox, one APPEND, every session's exists event timed from the moment
# the server's EXISTS reached the bridge. Runs against the devserver and a
# private Dovecot (its own state directory, IMAPBRIDGE_DOVECOT_MAX_CONNECTIONS
# raised to N, stopped at the end). Needs root for Dovecot.
#
#   bash bench/bridge/fanout.sh                    # N=1000, 5 appends each
#   N=300 ROUNDS=3 SERVERS=dovecot bash bench/bridge/fanout.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${N:-1000}"
ROUNDS="${ROUNDS:-5}"
SERVERS="${SERVERS:-devserver,dovecot}"
ulimit -n "$(ulimit -Hn)"
mkdir -p bench/out/bin
go build -o bench/out/bin/ ./bench/bridge/cmd/fanout
if [[ $SERVERS == *devserver* ]]; then
	bench/out/bin/fanout -n "$N" -rounds "$ROUNDS"
	echo
fi
if [[ $SERVERS == *dovecot* ]]; then
	export IMAPBRIDGE_DOVECOT_DIR="${IMAPBRIDGE_FANOUT_DOVECOT_DIR:-/tmp/imapbridge-fanout-dovecot}"
	export IMAPBRIDGE_DOVECOT_MAX_CONNECTIONS=$((N + 16))
	bash e2e/servers/dovecot.sh start >&2
	trap 'bash e2e/servers/dovecot.sh stop >&2' EXIT
	eval "$(bash e2e/servers/dovecot.sh env)"
	user=fanout
	pw=fanout-pw-7
	tmp=$(mktemp "$IMAPBRIDGE_DOVECOT_DIR/passwd.d/.new-XXXXXX")
	echo "$user:$pw::::::" >"$tmp"
	chmod 644 "$tmp"
	mv "$tmp" "$IMAPBRIDGE_DOVECOT_DIR/passwd.d/$user"
	BRIDGEBENCH_DOVECOT_USER=$user BRIDGEBENCH_DOVECOT_PASSWORD=$pw bench/out/bin/fanout -server dovecot -n "$N" -rounds "$ROUNDS"
fi
