#!/usr/bin/env bash
# Installs lambda-build for the GitHub Action: the prebuilt binary for this runner's arch from
# the action's release, verified against that release's SHA256SUMS and cached in the tool cache;
# when the release has no binary (the action used at a branch or commit), builds it with
# `cargo install --locked` from the action's own checkout. A checksum mismatch is never installed.
#
# Env: LAMBDA_BUILD_VERSION (a tag), LAMBDA_BUILD_REPOSITORY (owner/name), GITHUB_ACTION_PATH,
# RUNNER_TOOL_CACHE, GITHUB_PATH; LAMBDA_BUILD_DOWNLOAD_BASE (default https://github.com).
set -euo pipefail

version=${LAMBDA_BUILD_VERSION:-}
repository=${LAMBDA_BUILD_REPOSITORY:-}
base=${LAMBDA_BUILD_DOWNLOAD_BASE:-https://github.com}
action_path=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}
cache=${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/lambda-build

case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "lambda-build: no prebuilt binary for $(uname -m); building from source" >&2; arch= ;;
esac

add_to_path() {
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$1" >>"$GITHUB_PATH"; fi
  echo "lambda-build: using $1/lambda-build" >&2
}

build_from_source() {
  local root="$cache/source-${version:-unversioned}"
  echo "lambda-build: building from $action_path with cargo install --locked" >&2
  cargo install --locked --path "$action_path" --root "$root"
  add_to_path "$root/bin"
}

if [ -z "$version" ] || [ -z "$repository" ] || [ -z "$arch" ]; then
  build_from_source
  exit 0
fi

dir="$cache/$version/$arch"
if [ -x "$dir/lambda-build" ]; then
  add_to_path "$dir"
  exit 0
fi

asset="lambda-build-$arch"
url="$base/$repository/releases/download/$version"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() { curl --fail --silent --show-error --location --retry 3 --connect-timeout 20 -o "$tmp/$1" "$url/$1"; }
if ! fetch SHA256SUMS 2>"$tmp/err" || ! fetch "$asset" 2>>"$tmp/err"; then
  echo "lambda-build: no prebuilt $asset in $repository $version ($(tail -n1 "$tmp/err"))" >&2
  build_from_source
  exit 0
fi
expected=$(awk -v name="$asset" '$2 == name { print $1 }' "$tmp/SHA256SUMS")
actual=$(sha256sum "$tmp/$asset" | cut -d' ' -f1)
if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
  echo "lambda-build: $asset from $url does not match its SHA256SUMS (expected ${expected:-nothing}, got $actual); refusing to install it" >&2
  exit 1
fi
mkdir -p "$cache/$version"
staging=$(mktemp -d "$cache/$version/.tmp-XXXXXX")
install -m 0755 "$tmp/$asset" "$staging/lambda-build"
# Another job may have installed it meanwhile: keep theirs, drop ours.
mv -T "$staging" "$dir" 2>/dev/null || rm -rf "$staging"
add_to_path "$dir"
