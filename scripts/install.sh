#!/usr/bin/env bash
# Installs lambda-build for the GitHub Action, in seconds wherever a release exists:
#
#   version input (LAMBDA_BUILD_VERSION)   that release (v-prefixed or not)
#   action ref vX.Y.Z                      that release
#   action ref vX or vX.Y (moving tags)    the release of the version the action's own Cargo.toml
#                                          declares: a moving tag never has a release of its own
#   a branch, a commit, no ref             `cargo install --locked` from the action's checkout,
#                                          cached in the tool cache under a hash of that source
#
# A release binary is the tarball lambda-build-<os>-<arch>.tar.gz (os: linux, macos; arch:
# x86_64, arm64), verified against the release's SHA256SUMS before it is unpacked, and kept in
# the tool cache. A checksum mismatch is never installed and never falls back to a build. On
# other platforms, or when the action's own version has no binary for this one, it says so and
# builds from source. Prints the time the install took.
#
# Env: LAMBDA_BUILD_VERSION (the version input), LAMBDA_BUILD_REF (the ref the action is used
# at), LAMBDA_BUILD_REPOSITORY (owner/name), GITHUB_ACTION_PATH, RUNNER_TOOL_CACHE, GITHUB_PATH;
# LAMBDA_BUILD_DOWNLOAD_BASE (default https://github.com).
set -euo pipefail

requested=${LAMBDA_BUILD_VERSION:-}
ref=${LAMBDA_BUILD_REF:-}
repository=${LAMBDA_BUILD_REPOSITORY:-}
base=${LAMBDA_BUILD_DOWNLOAD_BASE:-https://github.com}
action_path=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}
cache=${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/lambda-build
started=$(date +%s)

say() { echo "lambda-build: $*" >&2; }

# The version the action's own files declare: the root Cargo.toml's [package] version.
own_version() {
  awk '/^\[/ { section = $0 } section == "[package]" && $1 == "version" {
         gsub(/"/, "", $3); print $3; exit }' "$action_path/Cargo.toml" 2>/dev/null
}

# The release tag to install, or nothing when the ref names no release (build from source).
release_tag() {
  local own
  own=$(own_version || true)
  if [ -n "$requested" ]; then
    echo "v${requested#v}"
  elif [[ $ref =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
    echo "$ref"
  elif [[ $ref =~ ^v[0-9]+(\.[0-9]+)?$ ]] && [ -n "$own" ]; then
    echo "v$own"
  fi
}

# linux-x86_64, macos-arm64, ...: the platforms releases carry a binary for; empty elsewhere.
platform() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=macos ;;
    *) return 0 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) return 0 ;;
  esac
  echo "$os-$arch"
}

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1
}

add_to_path() {
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$1" >>"$GITHUB_PATH"; fi
  say "using $1/lambda-build ($2, installed in $(($(date +%s) - started)) s)"
}

# Moves a finished install dir into place; another job may have installed it meanwhile: keep theirs.
publish() {
  [ -e "$2" ] || mv "$1" "$2" 2>/dev/null || true
  rm -rf "$1"
}

# A hash of exactly what `cargo install` compiles, so a branch that moved builds again and an
# unchanged source (a commit ref, a re-run) reuses the binary.
source_hash() {
  (cd "$action_path" && find Cargo.toml Cargo.lock src build.rs -type f 2>/dev/null | LC_ALL=C sort |
    while read -r file; do printf '%s %s\n' "$(sha256 "$file")" "$file"; done) |
    { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi; } | cut -c1-16
}

build_from_source() {
  local dir="$cache/source-$(source_hash)" staging
  if [ -x "$dir/bin/lambda-build" ]; then
    add_to_path "$dir/bin" "built from this source before, from the tool cache"
    return
  fi
  say "building from $action_path with cargo install --locked (minutes; a release ref such as @v1 installs in seconds)"
  mkdir -p "$cache"
  staging=$(mktemp -d "$cache/.source-XXXXXX")
  cargo install --locked --path "$action_path" --root "$staging"
  publish "$staging" "$dir"
  add_to_path "$dir/bin" "built from source"
}

# Downloads a release's SHA256SUMS and tarball for this platform into $tmp; fails when the
# release has no binary for it (no release, no such asset).
download() {
  local url="$base/$repository/releases/download/$1"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  fetch() { curl --fail --silent --show-error --location --retry 3 --connect-timeout 20 -o "$tmp/$1" "$url/$1"; }
  if ! fetch SHA256SUMS 2>"$tmp/err" || ! fetch "$2" 2>>"$tmp/err"; then
    say "no prebuilt $2 in $repository $1 ($(tail -n1 "$tmp/err"))"
    return 1
  fi
}

# Verifies the downloaded tarball against SHA256SUMS (a mismatch is fatal) and unpacks it into
# the tool cache.
install_download() {
  local tag=$1 asset=$2 dir=$3 expected actual staging
  expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1 }' "$tmp/SHA256SUMS")
  actual=$(sha256 "$tmp/$asset")
  if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
    say "$asset of $repository $tag does not match its SHA256SUMS (expected ${expected:-nothing}, got $actual); refusing to install it"
    exit 1
  fi
  mkdir -p "$cache/$tag"
  staging=$(mktemp -d "$cache/$tag/.tmp-XXXXXX")
  tar -xzf "$tmp/$asset" -C "$staging" lambda-build
  chmod 0755 "$staging/lambda-build"
  publish "$staging" "$dir"
  add_to_path "$dir" "release $tag"
}

tag=$(release_tag)
platform=$(platform)
if [ -z "$tag" ] || [ -z "$repository" ]; then
  say "${ref:-no ref} names no release"
  build_from_source
elif [ -z "$platform" ]; then
  say "releases carry no binary for $(uname -s) $(uname -m) (only Linux and macOS, x86_64 and arm64)"
  build_from_source
elif [ -x "$cache/$tag/$platform/lambda-build" ]; then
  add_to_path "$cache/$tag/$platform" "release $tag, from the tool cache"
elif download "$tag" "lambda-build-$platform.tar.gz"; then
  install_download "$tag" "lambda-build-$platform.tar.gz" "$cache/$tag/$platform"
elif [ "$tag" = "v$(own_version)" ]; then
  build_from_source
else
  # Only the action's own version may fall back to its own source: anything else would
  # install a different version than the one asked for.
  say "$tag was asked for but has no binary for $platform, and this action's source is $(own_version)"
  exit 1
fi
