#!/usr/bin/env bash
# The main job on the bundled examples/ workspace: both Lambda architectures, functions and
# the extension, as zips, with SHA256SUMS and manifest.json in examples/target/lambda.
# Installs only what the build needs (scripts/setup-build.sh), then builds lambda-build itself
# in debug: a fresh debug build takes a fraction of a release one and runs this job as fast
# (the work is cargo's; BENCHMARKS.md "First run"). A second run is a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup-build.sh
source scripts/setup-build.sh
if [ ! -x target/debug/lambda-build ]; then
  setup_log "building lambda-build (cargo build, debug: the quickest build that runs this job as fast)"
fi
cargo build --locked --quiet --bin lambda-build
# The examples build with the rustc that has both standard libraries; lambda-build itself with
# cargo's default, as the tests build it, so both share one target dir.
RUSTC=$setup_rustc exec target/debug/lambda-build --manifest-path examples/Cargo.toml --x86-64 --arm64 --output-format zip "$@"
