#!/usr/bin/env bash
# The Action's `cache: true`: what Swatinem/rust-cache caches and under which key. The
# workspace is the one MANIFEST_PATH belongs to (cargo's own answer, so a member's Cargo.toml
# caches its whole workspace) with the target dir cargo uses for it; the key names the targets
# and that workspace, so x86_64 and arm64 jobs, or two workspaces in one repository, keep
# separate caches instead of evicting each other. The lambda dir is not cached: rust-cache keeps
# only compiled dependencies.
#
# Env: MANIFEST_PATH (may be empty), TARGETS (the target inputs), GITHUB_WORKSPACE, GITHUB_OUTPUT.
set -euo pipefail

manifest=${MANIFEST_PATH:-Cargo.toml}
args=(--manifest-path "$manifest")
root=$(cargo locate-project --workspace --message-format plain "${args[@]}")
root=$(dirname "$root")
target=$(cargo metadata --no-deps --format-version 1 "${args[@]}" |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
target=${target:-$root/target}

# rust-cache joins the target onto the workspace: give it relative to the root, climbing out
# with ../ when a custom target dir lies elsewhere.
if [ "${target#"$root"/}" != "$target" ]; then
  relative=${target#"$root"/}
else
  relative=$(echo "$root" | sed 's|/[^/]*|../|g')${target#/}
fi

workspace=${GITHUB_WORKSPACE:-$PWD}
where=${root#"$workspace"}
where=${where#/}
key="${TARGETS:-host} ${where:-root}"
key=$(printf '%s' "$key" | tr -cs 'A-Za-z0-9._=-' '_')
echo "lambda-build cache: $root -> $relative, key $key" >&2
{
  echo "key=$key"
  echo "workspaces=$root -> $relative"
} >>"${GITHUB_OUTPUT:-/dev/stdout}"
