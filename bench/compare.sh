#!/usr/bin/env bash
# Side-by-side benchmark: lambda-build vs `cargo lambda build` on the same workspace and machine,
# in one run, from clean target dirs. Writes the numbers and ratios to BENCHMARKS.md.
#
#   bash bench/compare.sh [WORKSPACE]      (default: examples/)
#
# Needs what scripts/setup-ci-machine.sh installs (cargo-lambda, ziglang, an aarch64 std).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
ws=$(cd "${1:-$repo/examples}" && pwd)
out=${BENCH_DIR:-$repo/bench/results}
rm -rf "$out" && mkdir -p "$out"
export PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
# Debian's rustc has the aarch64 std on machines where rustup cannot add it.
if [ -d /usr/lib/rustlib/aarch64-unknown-linux-gnu ]; then export RUSTC=/usr/bin/rustc; fi

cargo build --release --locked --manifest-path "$repo/Cargo.toml" >/dev/null 2>&1
lb="$repo/target/release/lambda-build"

now() { date +%s.%N; }
timed() { # name command... : runs, records seconds
  local name=$1; shift
  local t0; t0=$(now)
  "$@" >"$out/$name.log" 2>&1
  echo "$(echo "$(now) - $t0" | bc)" >"$out/$name.secs"
  printf '%-28s %8.2fs\n' "$name" "$(cat "$out/$name.secs")"
}
cl_both() { # cargo-lambda cannot build two targets in one run: one run per target
  cargo lambda build --release --output-format zip --skip-target-check --target x86_64-unknown-linux-gnu --lambda-dir "$out/cl-lambda/x86_64" \
  && cargo lambda build --release --output-format zip --skip-target-check --target aarch64-unknown-linux-gnu --lambda-dir "$out/cl-lambda/arm64"
}
lb_both() {
  "$lb" --release --x86-64 --arm64 --output-format zip --lambda-dir "$out/lb-lambda"
}

cd "$ws"
echo "cold release zip build, x86_64 + arm64, clean target dirs"
CARGO_TARGET_DIR="$out/cl-target" timed cold-cargo-lambda cl_both
CARGO_TARGET_DIR="$out/lb-target" timed cold-lambda-build lb_both
echo "warm no-op rebuild producing zips"
for i in 1 2 3; do
  CARGO_TARGET_DIR="$out/cl-target" timed "warm-cargo-lambda-$i" cl_both
  CARGO_TARGET_DIR="$out/lb-target" timed "warm-lambda-build-$i" lb_both
done
# Packaging overhead: lambda-build reports its own phase times; package + record is what it
# adds over the cargo (zigbuild) invocation it runs.
overhead=$(grep -o 'package [0-9]*ms, record [0-9]*ms' "$out/warm-lambda-build-3.log" | awk '{print $2+$4}' | tr -d 'ms')

median() { sort -n | sed -n 2p; }
cold_cl=$(cat "$out/cold-cargo-lambda.secs"); cold_lb=$(cat "$out/cold-lambda-build.secs")
warm_cl=$(cat "$out"/warm-cargo-lambda-*.secs | median); warm_lb=$(cat "$out"/warm-lambda-build-*.secs | median)
ratio() { echo "scale=2; $1 / $2" | bc; }
{
  echo "# Benchmarks"
  echo
  echo "Produced by \`bash bench/compare.sh\` on $(date -u +%Y-%m-%d): $(nproc) cores, $(uname -m),"
  echo "workspace \`$(basename "$ws")/\` (2 functions + 1 extension), rustc $(${RUSTC:-rustc} --version | cut -d' ' -f2),"
  echo "zig $(python3 -m ziglang version), $(cargo lambda --version). Both tools use Zig as the linker."
  echo
  echo "| measurement | cargo lambda build | lambda-build | ratio | target |"
  echo "|---|---|---|---|---|"
  echo "| cold release zip build, x86_64 + arm64 (cargo-lambda: 2 runs) | ${cold_cl}s | ${cold_lb}s | $(ratio "$cold_lb" "$cold_cl")× | ≤ 0.90× |"
  echo "| warm no-op rebuild producing zips (median of 3) | ${warm_cl}s | ${warm_lb}s | $(ratio "$warm_lb" "$warm_cl")× | ≤ 0.5× |"
  echo "| packaging + records over the cargo invocation (6 zips) | – | ${overhead}ms | – | ≤ 100 ms |"
  echo
  echo "Logs of the run are in \`bench/results/\` (not committed)."
} >"$repo/BENCHMARKS.md"
cat "$repo/BENCHMARKS.md"
