#!/usr/bin/env bash
# The browser end-to-end tests (e2e/): Debian's chromium driven by
# playwright-core against the bridge binary and the test suite's Dovecot.
# Installs what it needs by itself (chromium with apt-get, playwright-core
# with npm ci). Uses the Dovecot described by IMAPBRIDGE_DOVECOT_* when set
# (ci/test.sh), else starts its own and stops it at the end. Screenshots and
# latency.json land in e2e/.out/.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
start=$(date +%s)
# E2E_TEST_TIMEOUT_MS bounds each test file (each test has its own smaller bound).
E2E_TEST_TIMEOUT_MS=150000

if [[ ! -x /usr/bin/chromium ]]; then
	echo "e2e: installing chromium" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq -o DPkg::Lock::Timeout=600 chromium >&2
fi
(cd e2e && npm ci --no-audit --no-fund --loglevel=error)
# The SDK's build tools, for tests/embed.test.mjs (npm pack of web/sdk); ci/web.sh installs them first in ci/test.sh.
[[ -x web/node_modules/.bin/esbuild ]] || (cd web && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p e2e/.out
rm -rf e2e/.out/screenshots
go build -o e2e/.out/bridge ./cmd/bridge
go build -o e2e/.out/faultproxy ./internal/faults/cmd/faultproxy # the latency variant's proxies

# A Dovecot of this run's own (state directory under a fresh /tmp dir, so a
# second run on the machine never shares it) unless IMAPBRIDGE_DOVECOT_DIR
# names a private instance to use.
if [[ -z ${IMAPBRIDGE_DOVECOT_PLAIN:-} ]]; then
	run_dir=$(mktemp -d /tmp/imapbridge-e2e.XXXXXX)
	chmod 755 "$run_dir" # the mail user reaches its mail below it
	export IMAPBRIDGE_DOVECOT_DIR="${IMAPBRIDGE_DOVECOT_DIR:-$run_dir/dovecot}"
	export IMAPBRIDGE_POSTFIX_DIR="${IMAPBRIDGE_POSTFIX_DIR:-$run_dir/postfix}"
	trap 'bash e2e/servers/postfix.sh stop || true; bash e2e/servers/dovecot.sh stop || true; rm -rf "$run_dir"' EXIT
	bash e2e/servers/dovecot.sh start >&2
	eval "$(bash e2e/servers/dovecot.sh env)"
	# Postfix for tests/compose.test.mjs (ci/test.sh exports its own).
	bash e2e/servers/postfix.sh start >&2
	eval "$(bash e2e/servers/postfix.sh env)"
fi
# Cyrus for tests/servers.test.mjs (the core scenarios on a non-Dovecot
# server, issue 14), in a directory of this run's own unless ci/test.sh
# started it; its cleanup runs before the one above.
if [[ -z ${IMAPBRIDGE_CYRUS_PLAIN:-} ]]; then
	cyrus_dir=$(mktemp -d /tmp/imapbridge-e2e-cyrus.XXXXXX)
	chmod 755 "$cyrus_dir"
	export IMAPBRIDGE_CYRUS_DIR="$cyrus_dir/cyrus"
	prev_trap=$(trap -p EXIT | sed "s/^trap -- '\(.*\)' EXIT$/\1/")
	# (cd back first: the tests run in e2e/, and both cleanups use relative paths)
	trap 'cd "'"$PWD"'"; bash e2e/servers/cyrus.sh stop || true; rm -rf "$cyrus_dir"; '"$prev_trap" EXIT
	bash e2e/servers/cyrus.sh start >&2
	eval "$(bash e2e/servers/cyrus.sh env)"
fi
# Courier for tests/servers_resync.test.mjs (the SDK's resync on Cyrus and
# Courier, issue 14), likewise.
if [[ -z ${IMAPBRIDGE_COURIER_PLAIN:-} ]]; then
	courier_dir=$(mktemp -d /tmp/imapbridge-e2e-courier.XXXXXX)
	chmod 755 "$courier_dir"
	export IMAPBRIDGE_COURIER_DIR="$courier_dir/courier"
	prev_trap=$(trap -p EXIT | sed "s/^trap -- '\(.*\)' EXIT$/\1/")
	trap 'cd "'"$PWD"'"; bash e2e/servers/courier.sh stop || true; rm -rf "$courier_dir"; '"$prev_trap" EXIT
	bash e2e/servers/courier.sh start >&2
	eval "$(bash e2e/servers/courier.sh env)"
fi

# One file at a time: the Dovecot restart must not hit another file's page,
# and the latency samples are taken on a quiet machine.
cd e2e
node --test --test-concurrency=1 --test-timeout="$E2E_TEST_TIMEOUT_MS" tests/
# The latency variant (issue 19 item 1): the core scenarios again with
# 200 ms ± 50 ms on each direction of every connection (browser ↔ bridge,
# bridge ↔ Dovecot) through Toxiproxy (e2e/lib/faultproxy.mjs); about 65 s.
# IMAPBRIDGE_E2E_LATENCY_VARIANT_MS sets the latency (0 skips the variant).
latency_ms=${IMAPBRIDGE_E2E_LATENCY_VARIANT_MS:-200}
if [[ $latency_ms != 0 ]]; then
	latency_start=$(date +%s)
	IMAPBRIDGE_E2E_LATENCY_MS=$latency_ms IMAPBRIDGE_E2E_JITTER_MS=$((latency_ms / 4)) \
		node --test --test-concurrency=1 --test-timeout="$((E2E_TEST_TIMEOUT_MS * 2))" tests/mail.test.mjs tests/live.test.mjs
	echo "e2e: latency variant ($latency_ms ms ± $((latency_ms / 4)) ms) ok in $(($(date +%s) - latency_start))s; figures in e2e/.out/latency-proxied.json"
fi
echo "e2e: ok in $(($(date +%s) - start))s; screenshots in e2e/.out/screenshots, latency in e2e/.out/latency.json"
