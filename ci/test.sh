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
# A private Dovecot (installed with apt-get if missing) for the live tests, in
# a state directory of this run's own (so two runs on one machine never share
# mail, users or ports) unless the caller names one in IMAPBRIDGE_DOVECOT_DIR.
run_dir=$(mktemp -d /tmp/imapbridge-run.XXXXXX)
chmod 755 "$run_dir" # the mail user reaches its mail below it
export IMAPBRIDGE_DOVECOT_DIR="${IMAPBRIDGE_DOVECOT_DIR:-$run_dir/dovecot}"
export IMAPBRIDGE_POSTFIX_DIR="${IMAPBRIDGE_POSTFIX_DIR:-$run_dir/postfix}"
export IMAPBRIDGE_CYRUS_DIR="${IMAPBRIDGE_CYRUS_DIR:-$run_dir/cyrus}"
export IMAPBRIDGE_COURIER_DIR="${IMAPBRIDGE_COURIER_DIR:-$run_dir/courier}"
cleanup() {
	bash e2e/servers/courier.sh stop || true
	bash e2e/servers/cyrus.sh stop || true
	bash e2e/servers/postfix.sh stop || true
	bash e2e/servers/dovecot.sh stop || true
	rm -rf "$run_dir"
}
trap cleanup EXIT
bash e2e/servers/dovecot.sh start >&2
bash e2e/servers/redis.sh install >&2 # cluster tests start private instances (internal/redistest)
bash e2e/servers/nginx.sh install >&2 # the cluster test starts its own load balancer (internal/clustertest)
eval "$(bash e2e/servers/dovecot.sh env)"
# Postfix (submission with SASL through Dovecot, LMTP into it) for submit/.
bash e2e/servers/postfix.sh start >&2
eval "$(bash e2e/servers/postfix.sh env)"
# Cyrus and Courier: the live suites run on every server of internal/imapservers.
bash e2e/servers/cyrus.sh start >&2
eval "$(bash e2e/servers/cyrus.sh env)"
bash e2e/servers/courier.sh start >&2
eval "$(bash e2e/servers/courier.sh env)"
# PyJWT for the embedding guide's Python example (auth/embedding_test.go): Debian's python3-jwt.
if ! /usr/bin/python3 -c 'import jwt' 2>/dev/null && ! python3 -c 'import jwt' 2>/dev/null; then
	{ DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=600 python3-jwt; } >&2
fi
go test -race -count=1 -timeout 15m ./...
# The Kubernetes manifests, decoded strictly into k8s.io/api (a module of its own).
(cd deploy && go vet ./... && go test -count=1 ./...)
bash ci/web.sh
bash ci/e2e.sh

echo "test: ok in $(( $(date +%s) - start ))s"
