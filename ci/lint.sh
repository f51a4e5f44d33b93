#!/usr/bin/env bash
# go vet, staticcheck (pinned as a go.mod tool), and go.mod drift.
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./...
go tool staticcheck ./...
if ! go mod tidy -diff >/dev/null 2>&1; then
  echo "go.mod/go.sum are not tidy:"; go mod tidy -diff || true; exit 1
fi
if ! (cd deploy && go mod tidy -diff >/dev/null 2>&1); then
  echo "deploy/go.mod is not tidy:"; (cd deploy && go mod tidy -diff) || true; exit 1
fi
# The benchmark's go-imap v2 peer (bench/run.sh builds it): a module of its own, kept building and tidy.
if ! (cd bench/peers/goimap && go vet ./... && go mod tidy -diff >/dev/null 2>&1); then
  echo "bench/peers/goimap does not build or is not tidy:"; (cd bench/peers/goimap && go mod tidy -diff) || true; exit 1
fi
echo "lint: ok"
