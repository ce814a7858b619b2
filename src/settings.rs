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
    /// Command line, environment and every configuration table: `[package|workspace.metadata.lambda.build]`,
    /// the per-binary `[...lambda.bin.<name>.build]`, `CargoLambda.toml`'s `[build]` and the
    /// `CARGO_LAMBDA_BUILD.<KEY>` variables.
    Metadata,
}

/// Whether a setting may differ between the binaries of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One value for the whole run.
    Run,
    /// Resolved per binary: its package's metadata (and its own per-binary table) apply to it only.
    Package,
}

/// How a text value (a flag's, or a variable's) is cut into the items of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// At commas and line ends: `--target x86_64,arm64`, `LAMBDA_BUILD_FEATURES=a,b`, a
    /// multi-line Action input.
    Comma,
    /// At spaces, as cargo-lambda reads `CARGO_LAMBDA_COMPILER_SUBCOMMAND`.
    Space,
    /// Not at all: one value is one item (`--config 'build.rustflags=["-C", "x"]'` holds commas).
    Whole,
}

/// One user-facing setting.
#[derive(Debug)]
pub struct Setting {
    /// The long flag name, kebab-case: `output-format`.
    pub name: &'static str,
    /// A short flag, when cargo or cargo-lambda has one for the same thing.
    pub short: Option<char>,
    /// Other long names the flag answers to (cargo-lambda's `--env-vars`, cargo's `--all`).
    pub aliases: &'static [&'static str],
    /// The name of the value in `--help`.
    pub value_name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// How the value is written.
    pub shape: Shape,
    /// How a list's text is cut into items.
    pub split: Split,
    /// Where else the value may come from.
    pub reach: Reach,
    /// Whether binaries may differ.
    pub scope: Scope,
    /// The default as users see it, for `--help`.
    pub default: Option<&'static str>,
    /// The cargo-lambda environment variable honoured for compatibility.
    pub cargo_lambda_env: Option<&'static str>,
    /// The keys of a configuration table that carry it, as cargo-lambda names them (the first is
    /// the one documented); a dotted key is a path into a sub-table (`compiler.subcommand`).
    /// Empty: [`Setting::key`].
    pub metadata_keys: &'static [&'static str],
    /// A cargo-lambda option accepted for compatibility. Not every one makes sense as a GitHub
    /// Action input, so the Action need not offer it (every other setting is an input).
    pub compat: bool,
}

impl Setting {
    /// The snake_case key used in `--print-config` and, unless [`Setting::metadata_keys`] says
    /// otherwise, in configuration tables.
    pub fn key(&self) -> String {
        self.name.replace('-', "_")
    }

    /// The keys that carry this setting in a configuration table, the documented one first.
    pub fn table_keys(&self) -> Vec<String> {
        match self.metadata_keys {
            [] => vec![self.key()],
            keys => keys.iter().map(|k| k.to_string()).collect(),
        }
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
        aliases: &[],
        value_name: "",
        help,
        shape,
        split: Split::Comma,
        reach,
        scope: Scope::Run,
        default: None,
        cargo_lambda_env: None,
        metadata_keys: &[],
        compat: false,
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

/// A cargo-lambda option (see [`Setting::compat`]).
const fn compat(mut s: Setting) -> Setting {
    s.compat = true;
    s
}

const fn aliases(mut s: Setting, names: &'static [&'static str]) -> Setting {
    s.aliases = names;
    s
}

const fn table_keys(mut s: Setting, keys: &'static [&'static str]) -> Setting {
    s.metadata_keys = keys;
    s
}

const fn split(mut s: Setting, how: Split) -> Setting {
    s.split = how;
    s
}

const fn cargo_lambda_env(mut s: Setting, name: &'static str) -> Setting {
    s.cargo_lambda_env = Some(name);
    s
}

/// A cargo option lambda-build passes through to every cargo invocation (and cargo-lambda reads
/// from its configuration tables too).
const fn cargo_switch(name: &'static str, help: &'static str) -> Setting {
    compat(setting(name, Switch, Metadata, help))
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
        Some("the host's architecture on a Linux x86_64 or arm64 (glibc) host, else x86_64, as cargo-lambda"),
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
    short(
        per_package(setting(
            "release",
            Switch,
            Metadata,
            "Build with the release profile and cargo-lambda's Lambda release tuning",
        )),
        'r',
    ),
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
    short(
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
        'o',
    ),
    per_package(setting(
        "extension",
        Switch,
        Metadata,
        "Build the selected binaries as Lambda extensions (otherwise detected from the lambda-extension dependency)",
    )),
    compat(per_package(setting(
        "internal",
        Switch,
        Metadata,
        "The extensions are internal: the zip holds the executable at its root instead of under extensions/",
    ))),
    short(
        cargo_lambda_env(
            per_package(valued(
                setting(
                    "compiler",
                    Value,
                    Metadata,
                    "Compiler backend: cargo-zigbuild (alias zigbuild), cargo or cross; in a configuration table also cargo-lambda's [build.compiler] table with type = ...",
                ),
                "COMPILER",
                Some("cargo-zigbuild"),
            )),
            "CARGO_LAMBDA_COMPILER",
        ),
        'c',
    ),
    compat(split(
        table_keys(
            cargo_lambda_env(
                per_package(valued(
                    setting(
                        "compiler-subcommand",
                        List,
                        Metadata,
                        "With --compiler cargo: the cargo subcommand to run instead of build, such as `zigbuild` or `brazil build` (space-separated in env)",
                    ),
                    "WORD",
                    Some("build"),
                )),
                "CARGO_LAMBDA_COMPILER_SUBCOMMAND",
            ),
            &["compiler.subcommand"],
        ),
        Split::Space,
    )),
    compat(split(
        table_keys(
            cargo_lambda_env(
                per_package(valued(
                    setting(
                        "compiler-extra-args",
                        List,
                        Metadata,
                        "With --compiler cargo: arguments appended to the cargo command line (space-separated in env)",
                    ),
                    "ARG",
                    None,
                )),
                "CARGO_LAMBDA_COMPILER_EXTRA_ARGS",
            ),
            &["compiler.extra_args"],
        ),
        Split::Space,
    )),
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
    per_package(setting(
        "smoke",
        Switch,
        Metadata,
        "After the gate, start each selected function and extension against a Lambda Runtime API emulator built into lambda-build and invoke it once (arm64 under qemu-user when available); a crash, init error, timeout or unexpected outcome fails the run before anything is packaged",
    )),
    per_package(valued(
        setting(
            "smoke-event",
            Value,
            Metadata,
            "With --smoke: JSON file sent as the event (relative to the folder of the table that sets it)",
        ),
        "PATH",
        Some("{} (an API Gateway v2 request for lambda_http functions)"),
    )),
    per_package(valued(
        setting(
            "smoke-expect",
            Value,
            Metadata,
            "With --smoke: the outcome the invocation must have: response, error, or any (a response or a handled error)",
        ),
        "OUTCOME",
        Some("any"),
    )),
    valued(
        setting(
            "smoke-timeout",
            Value,
            Env,
            "With --smoke: seconds each function has to start and answer",
        ),
        "SECONDS",
        Some("10"),
    ),
    setting(
        "smoke-all",
        Switch,
        Env,
        "With --smoke: fail before compiling when binaries of another architecture cannot be run here (no qemu-user on PATH), instead of skipping them",
    ),
    short(
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
        'l',
    ),
    compat(valued(
        setting(
            "flatten",
            Value,
            Metadata,
            "Put this binary's bootstrap (or bootstrap.zip) directly in the lambda dir instead of a folder named after it",
        ),
        "NAME",
        None,
    )),
    short(
        per_package(valued(
            setting(
                "include",
                List,
                Metadata,
                "Extra file or folder added to every zip, under its relative path, or at DEST with DEST:SRC (repeatable)",
            ),
            "[DEST:]PATH",
            None,
        )),
        'i',
    ),
    short(
        table_keys(
            valued(
                setting("package", List, Metadata, "Build only this package (repeatable)"),
                "SPEC",
                None,
            ),
            &["packages"],
        ),
        'p',
    ),
    valued(
        setting("bin", List, Metadata, "Build only this binary (repeatable)"),
        "NAME",
        None,
    ),
    table_keys(
        aliases(
            cargo_switch(
                "workspace",
                "Build every package of the workspace (lambda-build's selection already covers the workspace's Lambda binaries)",
            ),
            &["all"],
        ),
        &["workspace", "all"],
    ),
    compat(valued(
        setting(
            "exclude",
            List,
            Metadata,
            "Leave this package out of the selection (repeatable)",
        ),
        "SPEC",
        None,
    )),
    cargo_switch("bins", "Build every binary (the default selection already does)"),
    cargo_switch(
        "examples",
        "Build the example targets as the functions, instead of the binaries",
    ),
    compat(valued(
        setting(
            "example",
            List,
            Metadata,
            "Build this example target as a function (repeatable)",
        ),
        "NAME",
        None,
    )),
    short(
        valued(
            setting(
                "features",
                List,
                Metadata,
                "Cargo features to activate (comma-separated or repeated)",
            ),
            "FEATURES",
            None,
        ),
        'F',
    ),
    setting("all-features", Switch, Metadata, "Activate all available features"),
    setting(
        "no-default-features",
        Switch,
        Metadata,
        "Do not activate the default feature",
    ),
    setting(
        "locked",
        Switch,
        Metadata,
        "Require Cargo.lock to be up to date (passed to cargo)",
    ),
    setting(
        "frozen",
        Switch,
        Metadata,
        "Require Cargo.lock and the cache to be up to date (passed to cargo)",
    ),
    cargo_switch("offline", "Run cargo without accessing the network"),
    short(
        valued(
            setting("jobs", Value, Metadata, "Number of parallel cargo jobs"),
            "N",
            None,
        ),
        'j',
    ),
    cargo_switch(
        "keep-going",
        "Do not abort the build as soon as there is an error (passed to cargo)",
    ),
    compat(valued(
        setting(
            "target-dir",
            Value,
            Metadata,
            "cargo's target directory (passed to cargo; the lambda dir defaults to <target dir>/lambda)",
        ),
        "DIR",
        Some("cargo's"),
    )),
    compat(split(
        valued(
            setting(
                "config",
                List,
                Metadata,
                "Override a cargo configuration value, KEY=VALUE or a file PATH (repeatable; passed to cargo)",
            ),
            "KEY=VALUE|PATH",
            None,
        ),
        Split::Whole,
    )),
    short(
        compat(split(
            valued(
                setting(
                    "unstable-flags",
                    List,
                    Metadata,
                    "Unstable (nightly-only) flags to cargo, as cargo's -Z (repeatable)",
                ),
                "FLAG",
                None,
            ),
            Split::Whole,
        )),
        'Z',
    ),
    cargo_switch("timings", "Have cargo write a build timing report (passed to cargo)"),
    cargo_switch(
        "ignore-rust-version",
        "Ignore the rust-version of packages (passed to cargo)",
    ),
    cargo_switch(
        "future-incompat-report",
        "Have cargo print a future-incompatibility report at the end of the build",
    ),
    compat(valued(
        setting(
            "message-format",
            List,
            Metadata,
            "How compiler diagnostics are shown: human, short, json, json-diagnostic-short, json-diagnostic-rendered-ansi, json-render-diagnostics (cargo always reports JSON to lambda-build, which prints the rendered diagnostics: the json forms print as human, json-diagnostic-short as short)",
        ),
        "FMT",
        Some("human"),
    )),
    compat(valued(
        setting(
            "color",
            Value,
            Metadata,
            "Coloring of cargo's output and diagnostics: auto, always, never",
        ),
        "WHEN",
        Some("auto"),
    )),
    short(
        cargo_switch(
            "quiet",
            "Do not print cargo's log messages (passed to cargo); lambda-build's own progress lines stay",
        ),
        'q',
    ),
    cargo_switch(
        "skip-target-check",
        "Do not check for (or add with rustup) the targets' Rust standard library before compiling",
    ),
    compat(aliases(
        table_keys(
            valued(
                setting(
                    "env-var",
                    List,
                    Metadata,
                    "Environment variable for the build, KEY=VALUE (repeatable or comma-separated; set on the cargo command, over --env-file)",
                ),
                "KEY=VALUE",
                None,
            ),
            &["env_var", "env"],
        ),
        &["env-vars"],
    )),
    compat(valued(
        setting(
            "env-file",
            Value,
            Metadata,
            "File of KEY=VALUE lines (dotenv syntax) setting environment variables for the build",
        ),
        "PATH",
        None,
    )),
    compat(cargo_lambda_env(
        valued(
            setting(
                "global",
                Value,
                Env,
                "cargo-lambda configuration file to read instead of the nearest CargoLambda.toml",
            ),
            "FILE",
            Some("CargoLambda.toml in the current directory or the nearest one above"),
        ),
        "CARGO_LAMBDA_GLOBAL",
    )),
    short(
        compat(cargo_lambda_env(
            valued(
                setting(
                    "context",
                    Value,
                    Env,
                    "Context of the cargo-lambda configuration file to use: its [NAME.build] table over [default.build], under [global.build]",
                ),
                "NAME",
                None,
            ),
            "CARGO_LAMBDA_CONTEXT",
        )),
        'x',
    ),
    compat(cargo_lambda_env(
        setting(
            "admerge",
            Switch,
            Env,
            "Lists from every configuration layer are joined instead of the highest one winning (cargo-lambda's admerge)",
        ),
        "CARGO_LAMBDA_ADMERGE",
    )),
    valued(
        setting(
            "upload",
            List,
            Env,
            "After a successful build, upload the artifacts, SHA256SUMS and manifest.json (repeatable): github-release (repository from GITHUB_REPOSITORY, API from GITHUB_API_URL, token from GITHUB_TOKEN) or s3://BUCKET[/PREFIX] (credentials, region and endpoint from the standard AWS sources: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, web identity, AWS_PROFILE, container, instance; AWS_REGION; AWS_ENDPOINT_URL_S3)",
        ),
        "DEST",
        None,
    ),
    valued(
        setting(
            "s3-keys",
            Value,
            Env,
            "Object keys of an s3:// upload: content (PREFIX/<name>/<arch>/<sha256>.zip, a new key for new bytes) or stable (PREFIX/<name>-<arch>.zip, overwritten; pin the version id in a bucket with versioning)",
        ),
        "content|stable",
        Some("content"),
    ),
    valued(
        setting(
            "upload-timeout",
            Value,
            Env,
            "The most seconds one upload may take, retries included: every object to one S3 run, or every asset of the GitHub release; each request is also bounded by what it waits for (connecting, a sending rate floor, the first answer byte)",
        ),
        "SECONDS",
        Some("1800"),
    ),
    setting(
        "s3-path-style",
        Switch,
        Env,
        "Address an s3:// upload's bucket path-style (ENDPOINT/BUCKET/KEY), as some S3-compatible stores need; automatic for an endpoint on an IP address or localhost",
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
            "lock-timeout",
            Value,
            Env,
            "Seconds to wait for another run writing to the same lambda dir before giving up (exit 1); the wait names the holder every 30s",
        ),
        "SECONDS",
        Some("600"),
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

/// Keys cargo-lambda reads in its `build` tables that lambda-build does not: the cargo options
/// it flattens in (cargo-options' `Build`, so the names are its field names) that make no
/// sense for Lambda functions (`lib`, `tests`, ...) or that cargo-lambda itself only takes from
/// the command line (`manifest_path`). Written there they are ignored with a warning saying
/// so, rather than as unknown. The keys lambda-build reads are the [`Reach::Metadata`]
/// settings' [`Setting::table_keys`].
pub static CARGO_LAMBDA_ONLY_KEYS: &[&str] = &[
    "manifest_path",
    "lib",
    "test",
    "tests",
    "bench",
    "benches",
    "all_targets",
    "artifact_dir",
    "verbose",
    "unit_graph",
    "compile_time_deps",
];

/// Keys of a `[...lambda.build.compiler]` table that lambda-build reads.
pub static COMPILER_KEYS: &[&str] = &["type", "subcommand", "extra_args"];

/// Every setting that may be written in a configuration table, once per key that carries it
/// (a dotted key is a path into a sub-table).
pub fn metadata_settings() -> impl Iterator<Item = (String, &'static Setting)> {
    SETTINGS
        .iter()
        .filter(|s| s.reach == Reach::Metadata)
        .flat_map(|s| s.table_keys().into_iter().map(move |k| (k, s)))
}

/// The setting a configuration table's top-level `key` carries, if any.
pub fn by_table_key(key: &str) -> Option<&'static Setting> {
    metadata_settings().find(|(k, _)| k == key).map(|(_, s)| s)
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
    fn cargo_lambdas_short_flags_aliases_and_keys_are_declared() {
        for (c, name) in [
            ('o', "output-format"),
            ('l', "lambda-dir"),
            ('c', "compiler"),
            ('i', "include"),
            ('r', "release"),
            ('q', "quiet"),
            ('x', "context"),
            ('Z', "unstable-flags"),
            ('p', "package"),
            ('F', "features"),
            ('j', "jobs"),
        ] {
            assert_eq!(get(name).short, Some(c), "{name}");
        }
        assert_eq!(get("env-var").aliases, ["env-vars"]);
        assert_eq!(get("env-var").table_keys(), ["env_var", "env"]);
        assert_eq!(by_table_key("packages").map(|s| s.name), Some("package"));
        assert_eq!(
            by_table_key("compiler.extra_args").map(|s| s.name),
            Some("compiler-extra-args")
        );
        assert!(by_table_key("package").is_none());
        assert_eq!(
            get("compiler-subcommand").env_names().last().map(String::as_str),
            Some("CARGO_LAMBDA_COMPILER_SUBCOMMAND")
        );
    }

    #[test]
    fn every_setting_has_help_and_values_have_names() {
        for s in SETTINGS {
            assert!(!s.help.is_empty(), "{}", s.name);
            assert_eq!(s.shape == Shape::Switch, s.value_name.is_empty(), "{}", s.name);
        }
    }
}
