#!/usr/bin/env bash
# bench/bridge/transfers.sh — the transfer benchmark of issue 13 (not CI):
# a 25 MiB attachment downloaded through the bridge vs the engine directly
# (throughput ratio), bridge RSS growth per download at 20 concurrent 25 MiB
# downloads, and per 25 MiB upload. Against the e2e Dovecot (started with its
# own state directory, shared with bench/run.sh, left running).
#
# The report is printed and, unless BENCH_README=0, written between the
# transferbench markers of bench/README.md.
#
#   bash bench/bridge/transfers.sh
#   N=20 UPLOADS=4 ROUNDS=7 bash bench/bridge/transfers.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

N="${N:-20}"
UPLOADS="${UPLOADS:-1}"
ROUNDS="${ROUNDS:-5}"
OUT=bench/out

export IMAPBRIDGE_DOVECOT_DIR="${IMAPBRIDGE_BENCH_DOVECOT_DIR:-/tmp/imapbridge-bench-dovecot}"
bash e2e/servers/dovecot.sh start >&2
eval "$(bash e2e/servers/dovecot.sh env)"

mkdir -p "$OUT/bin"
go build -o "$OUT/bin/" ./bench/bridge/cmd/transfers
report="$OUT/transfers-report.md"
{
	echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs, $(go env GOVERSION), $(dovecot --version 2>/dev/null | head -1 || echo dovecot)."
	echo
	"$OUT/bin/transfers" -n "$N" -uploads "$UPLOADS" -rounds "$ROUNDS"
} | tee "$report"

if [[ ${BENCH_README:-1} == 1 ]]; then
	readme=bench/README.md
	begin='<!-- transferbench:begin -->'
	end='<!-- transferbench:end -->'
	if ! grep -qF "$begin" "$readme"; then
		printf '\n%s\n%s\n' "$begin" "$end" >>"$readme"
	fi
	awk -v b="$begin" -v e="$end" -v f="$report" '
		$0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip { print }' "$readme" >"$readme.tmp"
	mv "$readme.tmp" "$readme"
fi
