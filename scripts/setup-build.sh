#!/usr/bin/env bash
# Installs what a build of examples/ needs, and nothing more (the test tools come with
# scripts/setup-test.sh): a Rust that compiles for x86_64 and arm64 Linux, and Zig, the linker
# cargo-zigbuild drives. Each step checks first and prints one line only when it installs
# something; with everything there it takes a fraction of a second. Tool output goes to a log
# shown only when a step fails, so a newcomer reads what is installed and why, not apt's chatter.
#
# Source this file (scripts/run-examples.sh, scripts/setup-test.sh do) for `setup_rustc`: the
# rustc to build with (Debian's when rustup has no arm64 standard library), and the helpers.
set -euo pipefail

setup_log() { printf 'setup: %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# quietly WHAT CMD...: runs CMD with its output kept aside; on failure shows it and names WHAT.
quietly() {
  local what=$1 out
  shift
  out=$(mktemp)
  if ! "$@" >"$out" 2>&1; then
    setup_log "failed: $what; its output:"
    cat "$out" >&2
    rm -f "$out"
    return 1
  fi
  rm -f "$out"
}

# apt_install PACKAGE...: Debian packages, with one index update per run at most.
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    quietly "apt-get update" $SUDO apt-get update -qq
    apt_updated=1
  fi
  quietly "apt-get install $*" $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

# Debian's arm64 packages (the std below, the tests' libc) need the arm64 architecture; adding
# it makes the package index stale.
add_arm64_architecture() {
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
    apt_updated=""
  fi
}

# Whether rustup's default toolchain already has the arm64 standard library (GitHub runners
# after `rustup target add`); then no Debian rustc is needed.
rustup_has_arm64() {
  command -v rustup >/dev/null 2>&1 &&
    rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu
}

# Debian's rustc (`rustc-web`) with its aarch64 standard library: `rustup target add` cannot
# reach its server on these machines, and Debian's aarch64 std comes from the package
# registry. That package is not co-installable with the x86_64 one, so it is unpacked and its
# rustlib folder copied in.
setup_debian_rustc() {
  if [ ! -x /usr/bin/rustc ]; then
    setup_log "installing Debian's rustc (apt rustc-web): rustup cannot add the arm64 target here"
    apt_install rustc-web
  fi
  local sysroot tmp
  sysroot=$(/usr/bin/rustc --print sysroot)
  [ -d "$sysroot/lib/rustlib/aarch64-unknown-linux-gnu/lib" ] && return 0
  setup_log "installing Debian's arm64 Rust standard library (apt libstd-rust-web-dev:arm64): to compile for Graviton"
  add_arm64_architecture
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download -qq libstd-rust-web-dev:arm64 >/dev/null 2>&1); then
    [ -n "$apt_updated" ] || quietly "apt-get update" $SUDO apt-get update -qq
    apt_updated=1
    (cd "$tmp" && quietly "apt-get download libstd-rust-web-dev:arm64" apt-get download -qq libstd-rust-web-dev:arm64)
  fi
  dpkg -x "$tmp"/libstd-rust-web-dev_*_arm64.deb "$tmp/x"
  $SUDO cp -r "$tmp/x/usr/lib/rustlib/aarch64-unknown-linux-gnu" "$sysroot/lib/rustlib/"
  rm -rf "$tmp"
}

# Zig from PyPI (`ziglang`, no dependencies) for the python3 on PATH, where lambda-build looks
# for it (`python3 -m ziglang`).
setup_zig() {
  if ! python3 -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("ziglang") is None)' 2>/dev/null; then
    setup_log "installing Zig (PyPI ziglang): the linker for glibc-pinned x86_64 and arm64 Lambda binaries"
    quietly "pip install ziglang" python3 -m pip install --quiet --disable-pip-version-check \
      --root-user-action=ignore ziglang
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
  fi
}

setup_rustc=""
if rustup_has_arm64; then
  setup_rustc=rustc
else
  setup_debian_rustc
  setup_rustc=/usr/bin/rustc
fi
setup_zig
