#!/usr/bin/env bash
# Side-by-side benchmark of the S3 upload: lambda-build's `--upload s3://` against the step teams
# write today, `aws s3 cp --recursive` (and `aws s3 sync`) of the lambda dir, on the same
# artifacts, the same machine and the same S3-compatible server (s3s-fs on 127.0.0.1), in one run.
# Writes the numbers and ratios to the "S3 upload" section of BENCHMARKS.md.
#
#   bash bench/s3.sh
#
# Needs s3s-fs (scripts/setup-test.sh), the AWS CLI (installed into .tools/awscli) and the
# examples' dev builds for x86_64 and arm64 (the test suite leaves them in target/test-examples).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${BENCH_DIR:-$repo/bench/results/s3}
rm -rf "$out" && mkdir -p "$out"
export PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
if [ -d /usr/lib/rustlib/aarch64-unknown-linux-gnu ]; then export RUSTC=/usr/bin/rustc; fi
# The AWS CLI in its own venv: it pins a botocore that aws-sam-cli's boto3 cannot use.
venv="$repo/.tools/awscli"
[ -x "$venv/bin/aws" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q awscli; }
aws() { "$venv/bin/aws" "$@"; }
command -v s3s-fs >/dev/null || { echo "s3s-fs missing: run scripts/setup-test.sh" >&2; exit 1; }

cargo build --release --locked --manifest-path "$repo/Cargo.toml" >/dev/null 2>&1
lb="$repo/target/release/lambda-build"

# The server, with one bucket, and the environment both clients sign with.
root="$out/s3-root"; mkdir -p "$root/bench"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
s3s-fs --host 127.0.0.1 --port "$port" --access-key AKIABENCH --secret-key bench-secret "$root" >"$out/s3s-fs.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done
export AWS_ACCESS_KEY_ID=AKIABENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port AWS_ENDPOINT_URL=http://127.0.0.1:$port
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export CARGO_TARGET_DIR="$repo/target/test-examples" SOURCE_DATE_EPOCH=1700000000

cd "$repo/examples"
lambda_dir="$out/lambda"
build=("$lb" --x86-64 --arm64 --output-format zip --lambda-dir "$lambda_dir")
"${build[@]}" >"$out/build.log" 2>&1
bytes=$(find "$lambda_dir" -name '*.zip' -printf '%s\n' | awk '{s += $1} END {print s}')
zips=$(find "$lambda_dir" -name '*.zip' | wc -l)

now() { date +%s.%N; }
secs() { # command... : prints the seconds it took
  local t0; t0=$(now)
  "$@" >>"$out/runs.log" 2>&1
  echo "$(now) - $t0" | bc
}
upload_secs() { # lambda-build command... : prints the seconds of its upload phase (its own clock)
  local line
  line=$("$@" 2>&1 | tee -a "$out/runs.log" | grep -E 'objects uploaded to|nothing to upload' | tail -1)
  python3 -c 'import re, sys; m = re.search(r"(\d+(?:\.\d+)?)(ms|s)\)?$", sys.argv[1].strip()); print(float(m[1]) / (1000 if m[2] == "ms" else 1))' "$line"
}
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

declare -A t
for i in 1 2 3; do
  # First upload to an empty prefix, then the same again (nothing changed).
  t[cp1_$i]=$(secs aws s3 cp --recursive --only-show-errors "$lambda_dir" "s3://bench/cp$i/")
  t[cp2_$i]=$(secs aws s3 cp --recursive --only-show-errors "$lambda_dir" "s3://bench/cp$i/")
  t[sync1_$i]=$(secs aws s3 sync --only-show-errors "$lambda_dir" "s3://bench/sync$i/")
  t[sync2_$i]=$(secs aws s3 sync --only-show-errors "$lambda_dir" "s3://bench/sync$i/")
  t[build_$i]=$(secs "${build[@]}")
  t[lb1_$i]=$(secs "${build[@]}" --upload "s3://bench/lb$i")
  t[lb2_$i]=$(secs "${build[@]}" --upload "s3://bench/lb$i")
  t[up1_$i]=$(upload_secs "${build[@]}" --upload "s3://bench/up$i")
  t[up2_$i]=$(upload_secs "${build[@]}" --upload "s3://bench/up$i")
done
m() { median "${t[${1}_1]}" "${t[${1}_2]}" "${t[${1}_3]}"; }
cp1=$(m cp1) cp2=$(m cp2) sync1=$(m sync1) sync2=$(m sync2) build=$(m build) lb1=$(m lb1) lb2=$(m lb2)
up1=$(m up1) up2=$(m up2)
ratio() { echo "scale=3; $1 / $2" | bc | sed 's/^\./0./'; }
fmt() { printf '%.3fs' "$1"; }

section=$(cat <<EOF
## S3 upload (\`--upload s3://\`)

Produced by \`bash bench/s3.sh\` on $(date -u +%F): the same 2-core x86_64 machine, \`examples/\`
built for x86_64 and arm64 (dev profile: $zips zips, $((bytes / 1024)) KiB), uploaded to s3s-fs
$(s3s-fs --version | cut -d' ' -f2) on 127.0.0.1 (SigV4 and \`x-amz-checksum-sha256\` checked) by
lambda-build (release build) and by $(aws --version 2>&1 | cut -d' ' -f1), median of 3. The
AWS CLI's times are whole commands (start-up included); lambda-build's upload is its upload
phase by its own clock, and its whole command includes a warm no-op rebuild of the zips
($(fmt "$build") without an upload; $(fmt "$lb1") and $(fmt "$lb2") with one). On a real network
the bytes sent dominate: a re-run of lambda-build sends none.

| measurement | aws s3 cp --recursive | aws s3 sync | lambda-build's upload phase | ratio to cp | ratio to sync |
|---|---|---|---|---|---|
| first upload of the lambda dir | $(fmt "$cp1") | $(fmt "$sync1") | $(fmt "$up1") | $(ratio "$up1" "$cp1")× | $(ratio "$up1" "$sync1")× |
| the same again, nothing changed | $(fmt "$cp2") (sends every byte again) | $(fmt "$sync2") (size and mtime compared) | $(fmt "$up2") (HEAD with checksum, no PUT) | $(ratio "$up2" "$cp2")× | $(ratio "$up2" "$sync2")× |

What each leaves in the bucket: \`aws s3 cp\`/\`sync\` the lambda dir's files under their paths
(\`hello/bootstrap.zip\`: one key rewritten by every build; a checksum, if the CLI sends one,
computed from the file as it is read, not the one recorded at build time);
lambda-build content-addressed keys with \`x-amz-checksum-sha256\` checked by the server, and the
manifest recording bucket, key and version id. Logs: \`bench/results/s3/\` (not committed).
EOF
)
python3 - "$repo/BENCHMARKS.md" "$section" <<'PY'
import sys, re
path, section = sys.argv[1], sys.argv[2].rstrip() + "\n"
text = open(path).read()
start = text.find("## S3 upload")
if start < 0:
    text = text.rstrip() + "\n\n" + section
else:
    end = text.find("\n## ", start + 1)
    text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
open(path, "w").write(text)
PY
echo "first: cp $cp1 sync $sync1 lambda-build upload $up1 (whole $lb1); again: cp $cp2 sync $sync2 lambda-build upload $up2 (whole $lb2); build only $build"
