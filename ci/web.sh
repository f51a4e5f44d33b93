#!/usr/bin/env bash
# The web packages' tests (SDK: typecheck, unit tests, size budget, and the
# integration test against the real bridge). Needs Node.js 20+ and npm.
set -euo pipefail
cd "$(dirname "$0")/../web"
npm ci --no-audit --no-fund
npm test
node sdk/scripts/pack-check.mjs # docs/embedding.md §1: npm pack, install, import, type-check
