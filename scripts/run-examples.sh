#!/usr/bin/env bash
# The main job on the bundled examples/ workspace: both Lambda architectures, functions and
# the extension, as zips, with SHA256SUMS and manifest.json in examples/target/lambda.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-ci-machine.sh
# Where rustup cannot add the arm64 target (no network), Debian's rustc has it.
if ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu \
   && [ -d /usr/lib/rustlib/aarch64-unknown-linux-gnu ]; then
  export RUSTC=/usr/bin/rustc
fi
cargo build --release --locked --quiet
exec target/release/lambda-build --manifest-path examples/Cargo.toml --x86-64 --arm64 --output-format zip "$@"
