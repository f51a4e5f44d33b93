#!/usr/bin/env bash
# Fails if any Go file is not gofmt-formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')
bad=$(gofmt -l $files)
if [ -n "$bad" ]; then
  echo "gofmt would change:"; echo "$bad"; exit 1
fi
echo "fmt: ok"
