//! The command line, derived from the settings table, and the low-level inputs it yields:
//! raw values with their sources, from flags and the environment, before any validation.

use std::collections::BTreeMap;
use std::ffi::OsString;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, FromArgMatches, Subcommand};

use crate::config::source::{Raw, RawValue, Source};
use crate::settings::{Reach, SETTINGS, Setting, Shape};

/// The name of the hidden subcommand cargo-zigbuild's linker wrappers call back into.
pub const ZIG_SUBCOMMAND: &str = "zig";

/// What the command line asks for.
#[derive(Debug)]
pub enum Invocation {
    /// Build (or `--print-config`), with the raw inputs from flags and env.
    Build {
        /// The flag and env layer of every setting that has one.
        inputs: Inputs,
        /// `-v` count: 1 = debug, 2+ = trace.
        verbosity: u8,
    },
    /// `lambda-build zig cc|c++|ar|ranlib ...`: the linker wrapper cargo-zigbuild generated.
    Zig(cargo_zigbuild::Zig),
    /// `lambda-build merge DIR... --out DIR`: join the lambda dirs of sharded builds.
    Merge {
        /// The shards' lambda dirs.
        dirs: Vec<std::path::PathBuf>,
        /// Where the merged set goes.
        out: std::path::PathBuf,
    },
    /// `lambda-build install-cargo-lambda [DIR]`: the `cargo-lambda` entry point.
    InstallCargoLambda(crate::cargo_lambda::Install),
}

/// The id of what follows `--` on the command line, which is refused.
const AFTER_DASHES: &str = "after-dashes";

/// The name of the subcommand that joins shards.
pub const MERGE_SUBCOMMAND: &str = "merge";

/// The environment as the resolver sees it: empty variables count as unset.
#[derive(Clone, Debug, Default)]
pub struct EnvVars(BTreeMap<String, String>);

impl EnvVars {
    /// A snapshot of this process's environment.
    pub fn from_process() -> Self {
        EnvVars::from_pairs(
            std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// An environment made of the given pairs (tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        EnvVars(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .filter(|(_, v)| !v.trim().is_empty())
                .collect(),
        )
    }

    /// Every variable that is set, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A variable's value; `None` when unset or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// The flag and env layer: for each setting, the highest-precedence value found there.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    values: BTreeMap<&'static str, RawValue>,
}

impl Inputs {
    /// The flag or env value of a setting, if either set it.
    pub fn get(&self, name: &str) -> Option<&RawValue> {
        self.values.get(name)
    }

    /// Inputs from explicit values (tests).
    pub fn from_values(values: impl IntoIterator<Item = (&'static str, RawValue)>) -> Self {
        Inputs {
            values: values.into_iter().collect(),
        }
    }
}

/// The clap command, built from the settings table.
pub fn command() -> Command {
    let mut cmd = Command::new("lambda-build")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Build AWS Lambda functions and extensions written in Rust: a target matrix in one cargo run, reproducible zips, SHA256SUMS and manifest.json. Never prompts.")
        .after_help(crate::config::PRECEDENCE_HELP)
        .args_conflicts_with_subcommands(true)
        .arg(
            Arg::new("verbose")
                .short('v')
                .long("verbose")
                .action(ArgAction::Count)
                .help("More logging: -v debug, -vv trace"),
        )
        // Caught so that `lambda-build ... -- extra` is refused as what it is (arguments after
        // `--`, which lambda-build does not take), not as an unknown subcommand `extra`.
        .arg(
            Arg::new(AFTER_DASHES)
                .num_args(0..)
                .last(true)
                .hide(true)
                .value_parser(clap::value_parser!(OsString)),
        );
    for setting in SETTINGS {
        cmd = cmd.arg(arg_for(setting));
    }
    let zig =
        cargo_zigbuild::Zig::augment_subcommands(Command::new(ZIG_SUBCOMMAND).hide(true).subcommand_required(true));
    let merge = Command::new(MERGE_SUBCOMMAND)
        .about("Join the lambda dirs of a sharded build (--shard K/N) into one set, verifying every checksum and refusing conflicts")
        .arg(
            Arg::new("dirs")
                .value_name("DIR")
                .required(true)
                .num_args(1..)
                .value_parser(clap::value_parser!(std::path::PathBuf))
                .help("The shards' lambda dirs"),
        )
        .arg(
            Arg::new("out")
                .long("out")
                .value_name("DIR")
                .required(true)
                .value_parser(clap::value_parser!(std::path::PathBuf))
                .help("Where the merged artifacts, SHA256SUMS and manifest.json go"),
        );
    cmd.subcommand(zig)
        .subcommand(merge)
        .subcommand(crate::cargo_lambda::install_command())
}

fn arg_for(setting: &'static Setting) -> Arg {
    let mut help = setting.help.to_owned();
    if let Some(default) = setting.default {
        help.push_str(&format!(" [default: {default}]"));
    }
    let envs = setting.env_names();
    if !envs.is_empty() {
        help.push_str(&format!(" [env: {}]", envs.join(", ")));
    }
    if setting.reach == Reach::Metadata {
        help.push_str(&format!(" [metadata: {}]", setting.table_keys().join(", ")));
    }
    let arg = Arg::new(setting.name)
        .long(setting.name)
        .visible_aliases(setting.aliases)
        .help(help);
    let arg = match setting.short {
        Some(c) => arg.short(c),
        None => arg,
    };
    match setting.shape {
        Shape::Switch => arg
            .action(ArgAction::Set)
            .num_args(0..=1)
            .require_equals(true)
            .default_missing_value("true")
            .value_name("BOOL"),
        Shape::Value => arg.action(ArgAction::Set).value_name(setting.value_name),
        Shape::List => arg.action(ArgAction::Append).value_name(setting.value_name),
    }
}

/// Parses the command line. Clap reports its own usage errors (exit 2) and `--help`/`--version`.
pub fn parse(args: impl IntoIterator<Item = OsString>, env: &EnvVars) -> Result<Invocation, clap::Error> {
    let mut cmd = command();
    let matches = cmd.try_get_matches_from_mut(args)?;
    if let Some(extra) = matches.get_many::<OsString>(AFTER_DASHES) {
        let extra: Vec<_> = extra.map(|a| a.to_string_lossy().into_owned()).collect();
        return Err(cmd.error(
            clap::error::ErrorKind::UnknownArgument,
            format!(
                "unexpected arguments after `--` on the command line: {extra:?}; accepted: lambda-build's flags only (cargo's options are flags such as --features, --locked and --jobs; RUSTFLAGS reaches rustc)"
            ),
        ));
    }
    match matches.subcommand() {
        Some((ZIG_SUBCOMMAND, sub)) => return Ok(Invocation::Zig(cargo_zigbuild::Zig::from_arg_matches(sub)?)),
        Some((MERGE_SUBCOMMAND, sub)) => {
            return Ok(Invocation::Merge {
                dirs: sub.get_many("dirs").into_iter().flatten().cloned().collect(),
                out: sub.get_one("out").cloned().unwrap_or_default(),
            });
        }
        Some((crate::cargo_lambda::INSTALL_SUBCOMMAND, sub)) => {
            return Ok(Invocation::InstallCargoLambda(
                crate::cargo_lambda::Install::from_matches(sub),
            ));
        }
        _ => {}
    }
    Ok(Invocation::Build {
        inputs: gather(&matches, env),
        verbosity: matches.get_count("verbose"),
    })
}

/// Collects the flag and env layer of every setting.
pub fn gather(matches: &ArgMatches, env: &EnvVars) -> Inputs {
    let mut values = BTreeMap::new();
    for setting in SETTINGS {
        if let Some(value) = from_flag(setting, matches).or_else(|| from_env(setting, env)) {
            values.insert(setting.name, value);
        }
    }
    Inputs { values }
}

/// A flag's value; `None` when it was not given or every value given is blank. Blank values
/// count as unset, exactly as an empty variable does (`--lambda-dir ''` must not mean "here",
/// `--target ''` must not override metadata); a repeated list flag keeps its other items.
fn from_flag(setting: &Setting, matches: &ArgMatches) -> Option<RawValue> {
    if matches.value_source(setting.name) != Some(ValueSource::CommandLine) {
        return None;
    }
    let mut texts: Vec<String> = matches
        .get_many::<String>(setting.name)?
        .filter(|text| !text.trim().is_empty())
        .cloned()
        .collect();
    let raw = match setting.shape {
        Shape::List if texts.is_empty() => return None,
        Shape::List => Raw::Many(texts),
        _ => Raw::Text(texts.pop()?),
    };
    Some(RawValue {
        raw,
        source: Source::Flag(format!("--{}", setting.name)),
    })
}

fn from_env(setting: &Setting, env: &EnvVars) -> Option<RawValue> {
    setting.env_names().into_iter().find_map(|name| {
        let text = env.get(&name)?.to_owned();
        Some(RawValue {
            raw: Raw::Text(text),
            source: Source::Env(name),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(args: &[&str], env: &[(&str, &str)]) -> Inputs {
        let args = std::iter::once("lambda-build")
            .chain(args.iter().copied())
            .map(OsString::from);
        match parse(args, &EnvVars::from_pairs(env.iter().copied())).unwrap() {
            Invocation::Build { inputs, .. } => inputs,
            _ => panic!("not a build"),
        }
    }

    fn source_of(inputs: &Inputs, name: &str) -> Option<String> {
        inputs.get(name).map(|v| v.source.to_string())
    }

    #[test]
    fn flag_beats_input_beats_lambda_build_beats_cargo_lambda() {
        let env = [
            ("INPUT_COMPILER", "cross"),
            ("LAMBDA_BUILD_COMPILER", "cargo"),
            ("CARGO_LAMBDA_COMPILER", "cargo"),
        ];
        let all = inputs(&["--compiler", "zigbuild"], &env);
        assert_eq!(source_of(&all, "compiler").as_deref(), Some("flag --compiler"));
        assert_eq!(
            source_of(&inputs(&[], &env), "compiler").as_deref(),
            Some("env INPUT_COMPILER")
        );
        assert_eq!(
            source_of(&inputs(&[], &env[1..]), "compiler").as_deref(),
            Some("env LAMBDA_BUILD_COMPILER")
        );
        assert_eq!(
            source_of(&inputs(&[], &env[2..]), "compiler").as_deref(),
            Some("env CARGO_LAMBDA_COMPILER")
        );
    }

    #[test]
    fn input_hyphen_form_beats_underscore_form_and_empty_is_unset() {
        let both = inputs(
            &[],
            &[("INPUT_OUTPUT-FORMAT", "zip"), ("INPUT_OUTPUT_FORMAT", "binary")],
        );
        assert_eq!(
            source_of(&both, "output-format").as_deref(),
            Some("env INPUT_OUTPUT-FORMAT")
        );
        let empty = inputs(
            &[],
            &[("INPUT_OUTPUT-FORMAT", ""), ("LAMBDA_BUILD_OUTPUT_FORMAT", "zip")],
        );
        assert_eq!(
            source_of(&empty, "output-format").as_deref(),
            Some("env LAMBDA_BUILD_OUTPUT_FORMAT")
        );
        assert!(inputs(&[], &[("LAMBDA_BUILD_RELEASE", "  ")]).get("release").is_none());
    }

    #[test]
    fn switches_take_an_optional_value_and_lists_repeat() {
        let i = inputs(
            &["--release", "--arm64=false", "--target", "x86_64", "--target", "arm64"],
            &[],
        );
        assert_eq!(i.get("release").unwrap().raw, Raw::Text("true".into()));
        assert_eq!(i.get("arm64").unwrap().raw, Raw::Text("false".into()));
        assert_eq!(
            i.get("target").unwrap().raw,
            Raw::Many(vec!["x86_64".into(), "arm64".into()])
        );
    }

    #[test]
    fn blank_flag_values_are_unset_and_blank_list_items_dropped() {
        let i = inputs(
            &[
                "--lambda-dir",
                "",
                "--release=",
                "--profile",
                " ",
                "--bin",
                "",
                "--target",
                "",
                "--target",
                "arm64",
            ],
            &[("LAMBDA_BUILD_PROFILE", "lambda")],
        );
        assert!(i.get("lambda-dir").is_none());
        assert!(i.get("release").is_none());
        assert!(i.get("bin").is_none());
        assert_eq!(source_of(&i, "profile").as_deref(), Some("env LAMBDA_BUILD_PROFILE"));
        assert_eq!(i.get("target").unwrap().raw, Raw::Many(vec!["arm64".into()]));
    }

    #[test]
    fn print_config_is_cli_only() {
        assert!(
            inputs(&[], &[("LAMBDA_BUILD_PRINT_CONFIG", "true")])
                .get("print-config")
                .is_none()
        );
    }

    #[test]
    fn zig_wrapper_subcommand_parses() {
        let args = ["lambda-build", "zig", "cc", "--", "-target", "x86_64-linux-gnu"].map(OsString::from);
        assert!(matches!(parse(args, &EnvVars::default()).unwrap(), Invocation::Zig(_)));
    }

    #[test]
    fn arguments_after_dashes_are_refused_as_such() {
        for args in [
            &["lambda-build", "--", "extra"][..],
            &["lambda-build", "--release", "--", "a", "b"],
        ] {
            let err = parse(args.iter().map(OsString::from), &EnvVars::default()).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument);
            let text = err.to_string();
            assert!(text.contains("unexpected arguments after `--`"), "{text}");
            assert!(text.contains(&format!("{:?}", args.last().unwrap())), "{text}");
            assert!(text.contains("accepted: lambda-build's flags only"), "{text}");
        }
        let plain = ["lambda-build", "--release"].map(OsString::from);
        assert!(matches!(
            parse(plain, &EnvVars::default()).unwrap(),
            Invocation::Build { .. }
        ));
    }

    #[test]
    fn clap_command_is_consistent() {
        command().debug_assert();
    }
}
