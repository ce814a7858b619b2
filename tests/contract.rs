//! The interface in step: action.yml's inputs and outputs, the CLI's settings table, the env
//! names the binary reads, and README.md's inputs table must describe the same settings.

use std::collections::BTreeSet;

use lambda_build::settings::{Reach, SETTINGS};
use serde_yaml::Value;

/// Settings that are deliberately not Action inputs: they make no sense in a workflow step.
const CLI_ONLY: &[&str] = &["print-config", "toolchain-only"];
/// Action inputs that are not settings of the binary.
const ACTION_ONLY: &[&str] = &[
    "github-token",
    "version",
    "upload-artifact",
    "cache",
    "attest",
    "cargo-lambda",
];
const OUTPUTS: &[&str] = &[
    "artifacts",
    "manifest",
    "checksums",
    "lambda-dir",
    "release-url",
    "assets",
    "s3-objects",
    "attestation-url",
];

fn action() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap();
    serde_yaml::from_str(&text).expect("action.yml is YAML")
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_mapping()
        .expect("a mapping")
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_setting_is_an_action_input_and_every_input_a_setting() {
    let action = action();
    let inputs = keys(&action["inputs"]);
    for setting in SETTINGS {
        let cli_only = setting.reach == Reach::CliOnly;
        assert_eq!(
            cli_only,
            CLI_ONLY.contains(&setting.name),
            "--{} must be an Action input or be listed as deliberately CLI-only",
            setting.name
        );
        // cargo-lambda's options are accepted for compatibility; the Action may offer them.
        if !setting.compat {
            assert_eq!(inputs.contains(setting.name), !cli_only, "input {}", setting.name);
        }
    }
    for input in &inputs {
        let known = SETTINGS.iter().any(|s| s.name == input) || ACTION_ONLY.contains(&input.as_str());
        assert!(known, "action input {input} has no matching flag or env");
        assert!(
            action["inputs"][input.as_str()]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{input} has no description"
        );
    }
}

#[test]
fn the_build_step_passes_each_input_as_an_env_name_the_binary_reads() {
    let action = action();
    let steps = action["runs"]["steps"].as_sequence().unwrap();
    let build = steps.iter().find(|s| s["id"] == "build").expect("a step with id build");
    assert_eq!(build["run"], "lambda-build");
    let env = build["env"].as_mapping().unwrap();
    let inputs = keys(&action["inputs"]);
    let offered = SETTINGS
        .iter()
        .filter(|s| s.reach != Reach::CliOnly && (!s.compat || inputs.contains(s.name)));
    for setting in offered {
        let name = format!("INPUT_{}", setting.name.to_ascii_uppercase().replace('-', "_"));
        assert!(setting.env_names().contains(&name), "{name} is not read by the binary");
        assert_eq!(
            env.get(name.as_str()).and_then(Value::as_str),
            Some(format!("${{{{ inputs.{} }}}}", setting.name).as_str()),
            "{name}"
        );
    }
    assert_eq!(
        env.get("INPUT_GITHUB_TOKEN").and_then(Value::as_str),
        Some("${{ inputs.github-token }}")
    );
    assert!(lambda_build::upload::TOKEN_VARS.contains(&"INPUT_GITHUB_TOKEN"));
    assert_eq!(action["runs"]["using"], "composite");
}

#[test]
fn the_outputs_are_the_ones_the_binary_writes() {
    let action = action();
    let outputs = keys(&action["outputs"]);
    let expected: BTreeSet<String> = OUTPUTS.iter().map(|s| s.to_string()).collect();
    assert_eq!(outputs, expected);
    for output in OUTPUTS {
        // The attestation comes from the attest step, everything else from the binary.
        let step = if *output == "attestation-url" {
            "attest"
        } else {
            "build"
        };
        assert_eq!(
            action["outputs"][*output]["value"],
            format!("${{{{ steps.{step}.outputs.{output} }}}}")
        );
    }
}

#[test]
fn the_readme_inputs_table_lists_exactly_the_flags() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme
        .split("## Inputs")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").nth(1))
        .expect("a table under ## Inputs");
    let mut documented = BTreeSet::new();
    for row in table.lines().filter(|l| l.starts_with("| `-")) {
        let first_cell = row.split(" | ").next().unwrap_or_default();
        for flag in first_cell.split("--").skip(1) {
            let name: String = flag
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                .collect();
            documented.insert(name);
        }
    }
    // A flag's aliases (cargo-lambda's `--env-vars`, cargo's `--all`) may be shown beside it.
    documented.retain(|name| !SETTINGS.iter().any(|s| s.aliases.contains(&name.as_str())));
    let flags: BTreeSet<String> = SETTINGS.iter().map(|s| s.name.to_owned()).collect();
    assert_eq!(documented, flags, "README's inputs table and the settings table differ");
    let help = lambda_build::cli::command().render_long_help().to_string();
    for setting in SETTINGS {
        assert!(
            help.contains(&format!("--{}", setting.name)),
            "--help lacks --{}",
            setting.name
        );
    }
}

#[test]
fn every_action_the_action_uses_is_pinned_by_commit_sha() {
    let action = action();
    let steps = action["runs"]["steps"].as_sequence().unwrap();
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(uses.len() >= 3, "{uses:?}");
    for reference in uses {
        let (_, sha) = reference.split_once('@').expect("owner/name@ref");
        assert!(
            sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
            "{reference} is not pinned by a full commit SHA"
        );
    }
}
