#!/usr/bin/env bash
# bench/run.sh — the comparison benchmark of issue 3 item 7, in one command.
#
# Starts a private Dovecot with e2e/servers/dovecot.sh (its own state
# directory, so the test suite's start/stop never wipes the corpus), adds a
# bench user without quota, appends the seeded 10,000-message corpus once
# (reused while that Dovecot runs), then runs the raw-socket floor, the
# engine's imaplib and typed views, Python's imaplib, go-imap v2 (a nested Go
# module, bench/peers/goimap, built here) and ImapFlow (bench/peers/imapflow,
# installed here with npm ci from its lock file) in alternating rounds and
# prints the table; bench/README.md gets the same table.
#
#   bash bench/run.sh                  # 3 rounds (ROUNDS=21 for a table to trust)
#   ROUNDS=5 bash bench/run.sh
#   BENCH_STOP=1 bash bench/run.sh     # stop the bench Dovecot afterwards
#   BENCH_README=0 bash bench/run.sh   # leave bench/README.md alone
set -euo pipefail
cd "$(dirname "$0")/.."

export IMAPBRIDGE_DOVECOT_DIR="${IMAPBRIDGE_BENCH_DOVECOT_DIR:-/tmp/imapbridge-bench-dovecot}"
ROUNDS="${ROUNDS:-3}"
MESSAGES=10000          # corpus size (gencorpus -n, benchrun -n)
BENCH_USER=bench        # the mailbox holding the corpus
BENCH_PASSWORD=bench-pw-7
OUT=bench/out

bash e2e/servers/dovecot.sh start >&2
eval "$(bash e2e/servers/dovecot.sh env)"
if [[ ${BENCH_STOP:-0} == 1 ]]; then
	trap 'bash e2e/servers/dovecot.sh stop' EXIT
fi

# The bench user: a passwd-file of its own (see internal/dovecottest), with
# the quota lifted (the instance's rule is 100M; the corpus is ~260 MB).
userfile="$IMAPBRIDGE_DOVECOT_DIR/passwd.d/$BENCH_USER"
if [[ ! -s $userfile ]]; then
	tmp=$(mktemp "$IMAPBRIDGE_DOVECOT_DIR/passwd.d/.new-XXXXXX")
	echo "$BENCH_USER:$BENCH_PASSWORD::::::userdb_quota_rule=*:storage=0" >"$tmp"
	chmod 644 "$tmp"
	mv "$tmp" "$userfile"
fi

export IMAPBENCH_ADDR="$IMAPBRIDGE_DOVECOT_PLAIN" IMAPBENCH_USER="$BENCH_USER" IMAPBENCH_PASSWORD="$BENCH_PASSWORD"

mkdir -p "$OUT/bin"
go build -o "$OUT/bin/" ./bench/cmd/...
# The peers (issue 17): their dependencies stay out of the main module.
(cd bench/peers/goimap && go build -o "../../../$OUT/bin/goimapbench" .)
if [[ ! -d bench/peers/imapflow/node_modules/imapflow ]]; then
	(cd bench/peers/imapflow && npm ci --no-audit --no-fund >&2)
fi
"$OUT/bin/gencorpus" -n "$MESSAGES"

readme=()
if [[ ${BENCH_README:-1} == 1 ]]; then
	readme=(-readme bench/README.md)
fi
flowversion=$(node -p 'require("./bench/peers/imapflow/node_modules/imapflow/package.json").version')
goimapversion=$(cd bench/peers/goimap && go list -m -f '{{.Version}}' github.com/emersion/go-imap/v2)
notes="Dovecot $(dovecot --version | cut -d' ' -f1), $(python3 --version), go-imap $goimapversion, Node $(node --version), ImapFlow $flowversion"
"$OUT/bin/benchrun" -rounds "$ROUNDS" -n "$MESSAGES" -bin "$OUT/bin" \
	-json "$OUT/runs.jsonl" -notes "$notes" "${readme[@]}"
