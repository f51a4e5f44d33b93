#!/usr/bin/env bash
# Engine decode benchmarks (not part of the test command): ratios, not timed tests.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-10x}" -count "${COUNT:-3}" ./imapengine/ ./imapengine/internal/imapwire/

# The Dovecot comparison benchmark (bench/README.md): minutes, not part of make bench by default.
if [[ ${BENCH_DOVECOT:-0} == 1 ]]; then bash bench/run.sh; fi
