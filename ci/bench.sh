#!/usr/bin/env bash
# Engine decode benchmarks (not part of the test command): ratios, not timed tests.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-10x}" -count "${COUNT:-3}" ./imapengine/ ./imapengine/internal/imapwire/
