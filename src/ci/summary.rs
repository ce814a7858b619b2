//! The job summary (`$GITHUB_STEP_SUMMARY`): a Markdown table of the artifacts, the time each
//! phase took, and warnings such as artifacts over Lambda's size limits.

use std::fmt::Write as _;
use std::time::Duration;

use crate::progress::{human_duration, human_size};
use crate::record::Manifest;

/// The summary's Markdown.
pub fn markdown(manifest: &Manifest, phases: &[(String, Duration)], warnings: &[String]) -> String {
    let mut md = String::new();
    let count = manifest.artifacts.len();
    let _ = writeln!(
        md,
        "### lambda-build: {count} artifact{}\n",
        if count == 1 { "" } else { "s" }
    );
    md.push_str("| name | kind | arch | format | size | sha256 | runtime | glibc |\n");
    md.push_str("|---|---|---|---|---:|---|---|---|\n");
    for r in &manifest.artifacts {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | `{}` | {} | {} |",
            cell(&r.name),
            r.kind.as_str(),
            r.arch,
            r.format,
            human_size(r.size),
            r.short_sha256(),
            r.runtime,
            r.glibc_required.as_deref().unwrap_or("static"),
        );
    }
    md.push_str(&smoke_markdown(manifest));
    if !phases.is_empty() {
        let times: Vec<String> = phases
            .iter()
            .map(|(name, time)| format!("{name} {}", human_duration(*time)))
            .collect();
        let _ = writeln!(md, "\n**Time per phase:** {}", times.join(" · "));
    }
    for warning in warnings {
        let _ = writeln!(md, "\n> [!WARNING]\n> {}", cell(warning));
    }
    md
}

/// The section for a failed build's diagnoses: what went wrong, the chain, the fixes and the
/// line to change; empty when there are none.
pub fn diagnoses_markdown(diagnoses: &[crate::diagnose::Diagnosis], checkout: &std::path::Path) -> String {
    let mut md = String::new();
    if diagnoses.is_empty() {
        return md;
    }
    md.push_str("### lambda-build: why the build failed\n");
    for d in diagnoses {
        let _ = writeln!(md, "\n**{}**\n", d.why);
        if let Some(chain) = &d.chain {
            let _ = writeln!(md, "- from: `{chain}`");
        }
        if let Some(at) = &d.at {
            let _ = writeln!(
                md,
                "- at: `{}` line {}",
                crate::diagnose::relative(&at.file, checkout),
                at.line
            );
        }
        for (n, fix) in d.fixes.iter().enumerate() {
            let _ = writeln!(md, "- fix {}: {fix}", n + 1);
        }
    }
    md
}

/// The `--smoke` section: one row per binary and architecture (a binary and its zip share one
/// result); empty when nothing was smoke-tested.
fn smoke_markdown(manifest: &Manifest) -> String {
    let mut seen = std::collections::BTreeSet::new();
    let mut rows = String::new();
    for r in &manifest.artifacts {
        let Some(smoke) = &r.smoke else { continue };
        if !seen.insert((&r.name, &r.arch)) {
            continue;
        }
        let ms = |v: Option<u64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v} ms"));
        let _ = writeln!(
            rows,
            "| {} | {} | {} | {} | {} |",
            cell(&r.name),
            r.arch,
            cell(&smoke.outcome),
            ms(smoke.init_ms),
            ms(smoke.invoke_ms)
        );
    }
    match rows.is_empty() {
        true => rows,
        false => format!(
            "\n**Smoke test** (built-in Runtime API emulator):\n\n| name | arch | outcome | init | invoke |\n|---|---|---|---:|---:|\n{rows}"
        ),
    }
}

/// The summary's release section: the release and what happened to each asset.
pub fn release_markdown(outcome: &crate::upload::github::Outcome) -> String {
    let mut md = format!("\n**Release:** {}\n\n| asset | |\n|---|---|\n", outcome.release_url);
    for asset in &outcome.assets {
        let _ = writeln!(
            md,
            "| [{}]({}) | {} |",
            cell(&asset.name),
            asset.url,
            asset.action.as_str()
        );
    }
    md
}

/// The summary's S3 section: each object, its version id and what was done.
pub fn s3_markdown(placed: &[crate::upload::s3::publish::Placed]) -> String {
    let mut md = String::from("\n**S3:**\n\n| object | version id | |\n|---|---|---|\n");
    for p in placed {
        let _ = writeln!(
            md,
            "| `s3://{}/{}` | {} | {} |",
            cell(&p.bucket),
            cell(&p.key),
            p.version_id.as_deref().map(cell).unwrap_or_else(|| "-".into()),
            p.action.as_str()
        );
    }
    md
}

/// Text safe inside a table cell or a quote: no pipes or line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::Kind;
    use crate::record::{Record, Tool};

    #[test]
    fn one_row_per_artifact_with_short_digests_phase_times_and_warnings() {
        let record = Record {
            name: "hello".into(),
            kind: Kind::Function,
            arch: "arm64".into(),
            target: "aarch64-unknown-linux-gnu.2.34".into(),
            profile: "release".into(),
            format: "zip".into(),
            path: "arm64/hello/bootstrap.zip".into(),
            size: 1536,
            sha256: "0123456789abcdef".repeat(4),
            code_sha256: String::new(),
            unzipped_size: 4096,
            runtime: "provided.al2023".into(),
            glibc_required: Some("2.28".into()),
            inputs_sha256: String::new(),
            smoke: None,
            s3: Vec::new(),
        };
        let manifest = Manifest {
            version: 1,
            tool: Tool {
                name: "lambda-build".into(),
                version: "0".into(),
            },
            artifacts: vec![record],
        };
        let md = markdown(
            &manifest,
            &[
                ("compile".into(), Duration::from_millis(61_500)),
                ("package".into(), Duration::from_millis(12)),
            ],
            &["big | heavy".into()],
        );
        insta::assert_snapshot!(md, @r"
        ### lambda-build: 1 artifact

        | name | kind | arch | format | size | sha256 | runtime | glibc |
        |---|---|---|---|---:|---|---|---|
        | hello | function | arm64 | zip | 1.5 KiB | `0123456789ab` | provided.al2023 | 2.28 |

        **Time per phase:** compile 61.5s · package 12ms

        > [!WARNING]
        > big \| heavy
        ");
    }

    #[test]
    fn smoke_results_get_one_row_per_binary_and_arch() {
        let record = |format: &str, path: &str| Record {
            name: "hello".into(),
            kind: Kind::Function,
            arch: "x86_64".into(),
            target: "x86_64-unknown-linux-gnu".into(),
            profile: "release".into(),
            format: format.into(),
            path: path.into(),
            size: 1,
            sha256: String::new(),
            code_sha256: String::new(),
            unzipped_size: 1,
            runtime: "provided.al2023".into(),
            glibc_required: None,
            inputs_sha256: String::new(),
            smoke: Some(crate::smoke::Smoke {
                outcome: "response".into(),
                init_ms: Some(4),
                invoke_ms: Some(1),
            }),
            s3: Vec::new(),
        };
        let manifest = Manifest {
            version: 1,
            tool: Tool {
                name: "lambda-build".into(),
                version: "0".into(),
            },
            artifacts: vec![
                record("binary", "hello/bootstrap"),
                record("zip", "hello/bootstrap.zip"),
            ],
        };
        let md = smoke_markdown(&manifest);
        insta::assert_snapshot!(md, @r"
        **Smoke test** (built-in Runtime API emulator):

        | name | arch | outcome | init | invoke |
        |---|---|---|---:|---:|
        | hello | x86_64 | response | 4 ms | 1 ms |
        ");
    }
}
