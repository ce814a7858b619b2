#!/usr/bin/env bash
# The test command: installs what the tests need (scripts/setup-test.sh, idempotent), then runs
# the whole suite with the test tools' venv on PATH (after the machine's own python3, which
# lambda-build asks for Zig).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test.sh
export PATH="$PATH:$PWD/.tools/venv/bin"
exec cargo test --locked "$@"
