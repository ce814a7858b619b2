#!/usr/bin/env bash
# Kept for scripts and notes that still name it: everything the tests need is
# scripts/setup-test.sh (which runs scripts/setup-build.sh, all a build of examples/ needs).
exec bash "$(dirname "$0")/setup-test.sh" "$@"
