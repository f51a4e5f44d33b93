#!/usr/bin/env bash
# The whole test suite: formatting, lint, and every Go test with the race
# detector. Installs what it needs by itself; safe to run on a fresh machine
# with only Go installed.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
start=$(date +%s)

bash ci/fmt.sh
bash ci/lint.sh

# Unit, transcript, security and example tests (fuzz seed corpora run as tests).
# A private Dovecot (installed with apt-get if missing) for the live tests.
bash e2e/dovecot/dovecot.sh start >&2
trap 'bash e2e/dovecot/dovecot.sh stop' EXIT
eval "$(bash e2e/dovecot/dovecot.sh env)"
go test -race -count=1 -timeout 15m ./...
bash ci/web.sh
bash ci/e2e.sh

echo "test: ok in $(( $(date +%s) - start ))s"
