//! The one table of user-facing settings.
//!
//! Every setting is declared once here, with its doc. The command line (clap), the environment
//! names (`LAMBDA_BUILD_*`, `INPUT_*`, `CARGO_LAMBDA_*`), the Cargo.toml metadata keys and
//! `--print-config` are all derived from this table, so they cannot drift apart.

/// How a setting's value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A boolean: `--flag` (or `--flag=false`); env and metadata accept true/false/1/0/yes/no/on/off.
    Switch,
    /// One value.
    Value,
    /// Several values: the flag repeats, env values are comma-separated, metadata takes an array.
    List,
}

/// Where, besides the command line, a setting may come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Command line only (e.g. `--print-config`).
    CliOnly,
    /// Command line and environment.
    Env,
    /// Command line, environment and `[package|workspace.metadata.lambda.build]`.
    Metadata,
}

/// Whether a setting may differ between the packages of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One value for the whole run.
    Run,
    /// Resolved per package: that package's metadata applies to its binaries only.
    Package,
}

/// One user-facing setting.
#[derive(Debug)]
pub struct Setting {
    /// The long flag name, kebab-case: `output-format`.
    pub name: &'static str,
    /// A short flag, when cargo has one for the same thing.
    pub short: Option<char>,
    /// The name of the value in `--help`.
    pub value_name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// How the value is written.
    pub shape: Shape,
    /// Where else the value may come from.
    pub reach: Reach,
    /// Whether packages may differ.
    pub scope: Scope,
    /// The default as users see it, for `--help`.
    pub default: Option<&'static str>,
    /// The cargo-lambda environment variable honoured for compatibility.
    pub cargo_lambda_env: Option<&'static str>,
}

impl Setting {
    /// The snake_case key used in Cargo.toml metadata and in `--print-config`.
    pub fn key(&self) -> String {
        self.name.replace('-', "_")
    }

    /// Environment variable names that carry this setting, highest precedence first.
    pub fn env_names(&self) -> Vec<String> {
        if self.reach == Reach::CliOnly {
            return Vec::new();
        }
        let upper = self.name.to_ascii_uppercase();
        let snake = upper.replace('-', "_");
        let mut names = vec![format!("INPUT_{upper}")];
        if snake != upper {
            names.push(format!("INPUT_{snake}"));
        }
        names.push(format!("LAMBDA_BUILD_{snake}"));
        if let Some(name) = self.cargo_lambda_env {
            names.push(name.to_owned());
        }
        names
    }

    /// The variable users are told about in `--help` and the README.
    pub fn primary_env(&self) -> Option<String> {
        (self.reach != Reach::CliOnly).then(|| format!("LAMBDA_BUILD_{}", self.key().to_ascii_uppercase()))
    }
}

const fn setting(name: &'static str, shape: Shape, reach: Reach, help: &'static str) -> Setting {
    Setting {
        name,
        short: None,
        value_name: "",
        help,
        shape,
        reach,
        scope: Scope::Run,
        default: None,
        cargo_lambda_env: None,
    }
}

const fn per_package(mut s: Setting) -> Setting {
    s.scope = Scope::Package;
    s
}

const fn valued(mut s: Setting, value_name: &'static str, default: Option<&'static str>) -> Setting {
    s.value_name = value_name;
    s.default = default;
    s
}

const fn short(mut s: Setting, c: char) -> Setting {
    s.short = Some(c);
    s
}

use Reach::{CliOnly, Env, Metadata};
use Shape::{List, Switch, Value};

/// The Zig provisioned when none is found: the version the test suite runs with. Declared here,
/// with the other defaults, so the settings table needs nothing from the toolchain module.
pub const DEFAULT_ZIG_VERSION: &str = "0.17.1";

/// Every setting, in `--help` order.
pub static SETTINGS: &[Setting] = &[
    valued(
        setting(
            "manifest-path",
            Value,
            Env,
            "Cargo.toml of the package or workspace to build (a file named Cargo.toml, as cargo requires)",
        ),
        "PATH",
        Some("./Cargo.toml"),
    ),
    per_package(valued(
        setting(
            "target",
            List,
            Metadata,
            "Rust target triple (repeatable; comma-separated in env): x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu, their -musl forms, a glibc suffix such as .2.17, or the aliases x86_64, amd64, arm64, aarch64",
        ),
        "TARGET",
        Some("x86_64-unknown-linux-gnu"),
    )),
    per_package(setting(
        "arm64",
        Switch,
        Metadata,
        "Build for arm64 (aarch64-unknown-linux-gnu); with --x86-64 both",
    )),
    per_package(setting(
        "x86-64",
        Switch,
        Metadata,
        "Build for x86_64 (x86_64-unknown-linux-gnu); with --arm64 both",
    )),
    per_package(setting(
        "release",
        Switch,
        Metadata,
        "Build with the release profile and cargo-lambda's Lambda release tuning",
    )),
    per_package(valued(
        setting(
            "profile",
            Value,
            Metadata,
            "Cargo profile to build with: dev, release, test, bench, or one defined in [profile.*] of the workspace Cargo.toml or cargo config, or by CARGO_PROFILE_<NAME>_* variables",
        ),
        "NAME",
        Some("dev"),
    )),
    per_package(setting(
        "disable-optimizations",
        Switch,
        Metadata,
        "Release build without the Lambda release tuning (strip, thin LTO, one codegen unit, abort on panic, Lambda CPU)",
    )),
    per_package(valued(
        setting(
            "output-format",
            List,
            Metadata,
            "What to produce: binary, zip, or binary,zip for both side by side",
        ),
        "FORMAT",
        Some("binary"),
    )),
    per_package(setting(
        "extension",
        Switch,
        Metadata,
        "Build the selected binaries as Lambda extensions (otherwise detected from the lambda-extension dependency)",
    )),
    per_package(Setting {
        cargo_lambda_env: Some("CARGO_LAMBDA_COMPILER"),
        ..valued(
            setting(
                "compiler",
                Value,
                Metadata,
                "Compiler backend: cargo-zigbuild (alias zigbuild), cargo or cross",
            ),
            "COMPILER",
            Some("cargo-zigbuild"),
        )
    }),
    per_package(valued(
        setting(
            "runtime",
            Value,
            Metadata,
            "Lambda runtime the binaries must start on: provided.al2023 (glibc 2.34) or provided.al2 (glibc 2.26); picks the glibc cargo-zigbuild links against and gates every binary on it",
        ),
        "RUNTIME",
        Some("provided.al2023"),
    )),
    setting(
        "no-verify",
        Switch,
        Env,
        "Skip the runtime gate (machine, shared libraries, glibc version of every binary); warns",
    ),
    valued(
        setting(
            "lambda-dir",
            Value,
            Metadata,
            "Directory the artifacts, SHA256SUMS and manifest.json go to",
        ),
        "DIR",
        Some("<target dir>/lambda"),
    ),
    per_package(valued(
        setting(
            "include",
            List,
            Metadata,
            "Extra file or folder added to every zip under its relative path (repeatable)",
        ),
        "PATH",
        None,
    )),
    short(
        valued(
            setting("package", List, Env, "Build only this package (repeatable)"),
            "SPEC",
            None,
        ),
        'p',
    ),
    valued(
        setting("bin", List, Env, "Build only this binary (repeatable)"),
        "NAME",
        None,
    ),
    short(
        valued(
            setting(
                "features",
                List,
                Env,
                "Cargo features to activate (comma-separated or repeated)",
            ),
            "FEATURES",
            None,
        ),
        'F',
    ),
    setting("all-features", Switch, Env, "Activate all available features"),
    setting(
        "no-default-features",
        Switch,
        Env,
        "Do not activate the default feature",
    ),
    setting(
        "locked",
        Switch,
        Env,
        "Require Cargo.lock to be up to date (passed to cargo)",
    ),
    setting(
        "frozen",
        Switch,
        Env,
        "Require Cargo.lock and the cache to be up to date (passed to cargo)",
    ),
    short(
        valued(setting("jobs", Value, Env, "Number of parallel cargo jobs"), "N", None),
        'j',
    ),
    valued(
        setting(
            "upload",
            Value,
            Env,
            "After a successful build, upload the artifacts, SHA256SUMS and manifest.json: github-release (repository from GITHUB_REPOSITORY, API from GITHUB_API_URL, token from GITHUB_TOKEN)",
        ),
        "TARGET",
        None,
    ),
    valued(
        setting(
            "release-tag",
            Value,
            Env,
            "Tag of the GitHub release to upload to (created when missing)",
        ),
        "TAG",
        Some("from GITHUB_REF=refs/tags/TAG"),
    ),
    setting(
        "draft",
        Switch,
        Env,
        "Create the release as a draft when it does not exist",
    ),
    setting(
        "prerelease",
        Switch,
        Env,
        "Create the release as a prerelease when it does not exist",
    ),
    valued(
        setting(
            "shard",
            Value,
            Env,
            "Build a deterministic 1/N slice of the selected binaries (K from 1 to N, balanced by count); join the shards' lambda dirs with `lambda-build merge`",
        ),
        "K/N",
        None,
    ),
    valued(
        setting(
            "zig-version",
            Value,
            Metadata,
            "Zig to download into the tool cache when none is found (then only this version is used)",
        ),
        "VERSION",
        Some(DEFAULT_ZIG_VERSION),
    ),
    setting(
        "print-config",
        Switch,
        CliOnly,
        "Print the resolved configuration as JSON, each value with its source, and exit",
    ),
    setting(
        "toolchain-only",
        Switch,
        CliOnly,
        "Find or provision the toolchain the build needs (Zig, Rust targets), print it, and exit without building",
    ),
];

/// Keys cargo-lambda reads in `[package|workspace.metadata.lambda.build]` that lambda-build does
/// not read (yet): its own (`flatten`, `internal`, `skip_target_check`) and the cargo options it
/// flattens in (cargo-options' `Build`, so the names are its field names: `packages`, not
/// `package`). Written there they are ignored with a warning saying so, rather than as unknown.
/// The keys lambda-build reads are the [`Reach::Metadata`] settings' [`Setting::key`].
pub static CARGO_LAMBDA_ONLY_KEYS: &[&str] = &[
    "flatten",
    "internal",
    "skip_target_check",
    "manifest_path",
    "packages",
    "workspace",
    "exclude",
    "all",
    "lib",
    "bin",
    "bins",
    "example",
    "examples",
    "test",
    "tests",
    "bench",
    "benches",
    "all_targets",
    "features",
    "all_features",
    "no_default_features",
    "jobs",
    "keep_going",
    "locked",
    "frozen",
    "offline",
    "target_dir",
    "artifact_dir",
    "message_format",
    "quiet",
    "verbose",
    "color",
    "config",
    "unstable_flags",
    "timings",
    "ignore_rust_version",
    "unit_graph",
    "future_incompat_report",
    "compile_time_deps",
];

/// Keys of a `[...lambda.build.compiler]` table that lambda-build reads.
pub static COMPILER_KEYS: &[&str] = &["type"];

/// Keys of cargo-lambda's `compiler` table that lambda-build does not read (yet).
pub static CARGO_LAMBDA_ONLY_COMPILER_KEYS: &[&str] = &["subcommand", "extra_args"];

/// Every setting that may be written in Cargo.toml metadata, with its key there.
pub fn metadata_settings() -> impl Iterator<Item = (String, &'static Setting)> {
    SETTINGS
        .iter()
        .filter(|s| s.reach == Reach::Metadata)
        .map(|s| (s.key(), s))
}

/// Looks a setting up by its flag name.
///
/// Panics on an unknown name. That is a programming error, never a user's: every caller passes
/// a string literal of this crate (user input never reaches here; metadata keys are matched
/// against [`metadata_settings`] instead), and every run looks up every one of those names, so
/// a misspelt one fails the first test that resolves anything, never only some user's run.
pub fn get(name: &str) -> &'static Setting {
    SETTINGS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no setting named {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_kebab_case() {
        let mut names: Vec<_> = SETTINGS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SETTINGS.len());
        for name in names {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{name}"
            );
        }
    }

    #[test]
    fn env_names_follow_the_contract() {
        assert_eq!(
            get("output-format").env_names(),
            [
                "INPUT_OUTPUT-FORMAT",
                "INPUT_OUTPUT_FORMAT",
                "LAMBDA_BUILD_OUTPUT_FORMAT"
            ]
        );
        assert_eq!(get("release").env_names(), ["INPUT_RELEASE", "LAMBDA_BUILD_RELEASE"]);
        assert_eq!(
            get("compiler").env_names(),
            ["INPUT_COMPILER", "LAMBDA_BUILD_COMPILER", "CARGO_LAMBDA_COMPILER"]
        );
        assert!(get("print-config").env_names().is_empty());
        assert_eq!(get("x86-64").key(), "x86_64");
    }

    #[test]
    fn cargo_lambda_only_keys_are_not_keys_lambda_build_reads() {
        for (key, _) in metadata_settings() {
            assert!(!CARGO_LAMBDA_ONLY_KEYS.contains(&key.as_str()), "{key}");
        }
    }

    #[test]
    fn every_setting_has_help_and_values_have_names() {
        for s in SETTINGS {
            assert!(!s.help.is_empty(), "{}", s.name);
            assert_eq!(s.shape == Shape::Switch, s.value_name.is_empty(), "{}", s.name);
        }
    }
}
