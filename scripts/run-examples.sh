#!/usr/bin/env bash
# The main job on the bundled examples/ workspace: both Lambda architectures, functions and
# the extension, as zips, with SHA256SUMS and manifest.json in examples/target/lambda.
# Installs only what the build needs (scripts/setup-build.sh), then builds lambda-build itself
# in Cargo.toml's plain `release` profile: measured, a cold debug build costs more CPU than it
# (debuginfo for every dependency, opt-level 1 in 256 codegen units; BENCHMARKS.md "Profiles").
# A second run is a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup-build.sh
source scripts/setup-build.sh
if [ ! -x target/release/lambda-build ]; then
  setup_log "building lambda-build (cargo build --release, a few minutes once)"
fi
cargo build --release --locked --quiet --bin lambda-build
# The examples build with the rustc that has both standard libraries; lambda-build itself with
# cargo's default one.
RUSTC=$setup_rustc exec target/release/lambda-build --manifest-path examples/Cargo.toml --x86-64 --arm64 --output-format zip "$@"
