//! Resolution: every source of a setting is a layer — the flag/env layer, then configuration
//! tables (per-binary, package and workspace metadata, `CargoLambda.toml`, the
//! `CARGO_LAMBDA_BUILD.*` variables), then the default — walked the same way for every setting:
//! the highest layer that sets it wins (with `--admerge`, list settings join every layer's
//! items). Raw text is validated into typed values, each keeping its source.

use std::cell::OnceCell;
use std::path::{Component, Path, PathBuf};

use serde_json::Value as Json;

use super::source::{Raw, RawValue, Source, Sourced};
use super::values::{
    self, Color, CompilerKind, MessageFormat, OutputFormat, Profile, Runtime, S3Keys, Shard, SmokeExpect, Target,
};
use super::{Include, PackageSettings, RunSettings};
use crate::cli::Inputs;
use crate::error::{Error, Result};
use crate::settings::{self, Reach, Setting, Shape, Split};

/// One configuration table: a layer of the precedence list below the flags and variables.
#[derive(Clone, Debug)]
pub struct Table<'a> {
    /// Which table it is; its place in the precedence list is [`Source::rank`].
    pub source: Source,
    /// The folder its relative paths are resolved against (the package's, the workspace's,
    /// the configuration file's).
    pub dir: PathBuf,
    /// The `build` table.
    pub table: &'a Json,
}

/// A raw value found in one layer, with the folder its relative paths start from.
#[derive(Clone, Debug)]
struct Found {
    raw: RawValue,
    dir: PathBuf,
}

/// Resolves settings from the flag/env layer and the configuration tables.
pub struct Resolver<'a> {
    inputs: &'a Inputs,
    cwd: PathBuf,
    /// Tables every binary shares (workspace metadata, the configuration file, the
    /// `CARGO_LAMBDA_BUILD.*` variables), highest first.
    shared: Vec<Table<'a>>,
    /// `--admerge`: list settings join the items of every layer.
    admerge: bool,
    /// rustc's host triple, asked only when a default target is needed.
    host: OnceCell<Option<String>>,
    host_probe: Box<dyn Fn() -> Option<String> + 'a>,
}

impl std::fmt::Debug for Resolver<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("cwd", &self.cwd)
            .field("shared", &self.shared)
            .field("admerge", &self.admerge)
            .finish_non_exhaustive()
    }
}

/// The `lambda.build` table inside a `metadata` value from `cargo metadata`.
pub fn lambda_build_table(metadata: &Json) -> Option<&Json> {
    metadata.get("lambda")?.get("build").filter(|t| t.is_object())
}

/// The `lambda.bin.<bin>.build` table inside a `metadata` value: the binary's own, or, as
/// cargo-lambda also looks, one named after its package.
pub fn lambda_bin_table<'j>(metadata: &'j Json, bin: &str, package: &str) -> Option<(&'j Json, String)> {
    let bins = metadata.get("lambda")?.get("bin")?;
    [bin, package].into_iter().find_map(|name| {
        let table = bins.get(name)?.get("build").filter(|t| t.is_object())?;
        Some((table, name.to_owned()))
    })
}

/// Resolves `--manifest-path`, which is needed before any metadata can be read.
pub fn manifest_path(inputs: &Inputs, cwd: &Path) -> Result<Sourced<PathBuf>> {
    let setting = settings::get("manifest-path");
    let manifest = match inputs.get(setting.name) {
        Some(raw) => Sourced::new(cwd.join(text_of(setting.name, raw)?), raw.source.clone()),
        None => Sourced::default_value(cwd.join("Cargo.toml")),
    };
    check_manifest_path(&manifest)?;
    Ok(manifest)
}

/// Cargo reads only a file named `Cargo.toml` (`cargo metadata` refuses any other name); caught
/// here, the mistake is a usage error naming the input instead of cargo's failure (exit 1).
fn check_manifest_path(manifest: &Sourced<PathBuf>) -> Result<()> {
    let path = &manifest.value;
    let problem = if path.is_dir() {
        let inside = path.join("Cargo.toml");
        match inside.is_file() {
            true => format!("is a directory (did you mean {}?)", inside.display()),
            false => "is a directory".to_owned(),
        }
    } else if !path.is_file() {
        "is not a file".to_owned()
    } else if path.file_name() != Some("Cargo.toml".as_ref()) {
        "is not named Cargo.toml".to_owned()
    } else {
        return Ok(());
    };
    Err(Error::usage(format!(
        "manifest path {} (from {}) {problem}; accepted: the Cargo.toml of a package or workspace (cargo reads no other file name)",
        path.display(),
        manifest.source
    )))
}

/// Refuses a lambda dir that cannot be a directory because it, or a folder above it, is a file
/// (`--lambda-dir Cargo.toml/out`): before anything compiles, not when the first artifact is
/// written. A path that does not exist yet is fine: the run creates it.
pub fn check_lambda_dir(dir: &Path, source: &Source) -> Result<()> {
    for path in dir.ancestors() {
        let blocker = match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => return Ok(()),
            Ok(_) => "is a file",
            // A dangling symlink: the run could not create the folder through it.
            Err(_) if path.symlink_metadata().is_ok() => "is a broken symbolic link",
            // Missing, or below a file (the file is an ancestor, found next).
            Err(_) => continue,
        };
        let what = match path == dir {
            true => blocker.to_owned(),
            false => format!("cannot be a directory: {} {blocker}", path.display()),
        };
        return Err(Error::usage(format!(
            "lambda dir {} (from {}) {what}; accepted: a directory, or a path where one can be created",
            dir.display(),
            input_name("lambda-dir", source)
        )));
    }
    Ok(())
}

impl<'a> Resolver<'a> {
    /// A resolver over the flag/env layer and the `shared` tables (highest first).
    /// `host_probe` names rustc's host triple; it is called at most once, and only when some
    /// binary has no target set anywhere.
    pub fn new(
        inputs: &'a Inputs,
        cwd: PathBuf,
        shared: Vec<Table<'a>>,
        host_probe: impl Fn() -> Option<String> + 'a,
    ) -> Result<Self> {
        let mut resolver = Resolver {
            inputs,
            cwd,
            shared,
            admerge: false,
            host: OnceCell::new(),
            host_probe: Box::new(host_probe),
        };
        resolver.admerge = resolver.switch("admerge", &[])?.value;
        Ok(resolver)
    }

    /// Every layer that sets a setting, highest first: the flag/env layer, then `scope`'s tables
    /// and the shared ones in precedence order. Only the first counts, except for lists under
    /// `--admerge`, where all do.
    fn found(&self, name: &'static str, scope: &[Table<'_>]) -> Vec<Found> {
        let setting = settings::get(name);
        let mut found: Vec<Found> = self
            .inputs
            .get(name)
            .map(|raw| Found {
                raw: raw.clone(),
                dir: self.cwd.clone(),
            })
            .into_iter()
            .collect();
        if setting.reach == Reach::Metadata {
            let mut tables: Vec<&Table<'_>> = scope.iter().chain(&self.shared).collect();
            tables.sort_by_key(|t| t.source.rank());
            found.extend(tables.into_iter().filter_map(|t| {
                let value = setting.table_keys().iter().find_map(|key| written(t.table, key))?;
                Some(Found {
                    raw: RawValue {
                        raw: Raw::Json(value.clone()),
                        source: t.source.clone(),
                    },
                    dir: t.dir.clone(),
                })
            }));
        }
        let joins = self.admerge && setting.shape == Shape::List && name != "target";
        if !joins {
            found.truncate(1);
        }
        found
    }

    /// `--global` and `--context`: which configuration file, and which of its contexts, are read
    /// (from flags and variables only, as cargo-lambda reads them).
    #[allow(clippy::type_complexity)]
    pub fn file_options(&self) -> Result<(Sourced<Option<PathBuf>>, Sourced<Option<String>>)> {
        let context = self.parsed("context", &[], |t| Some(t.trim().to_owned()), "a context name")?;
        Ok((self.path("global", &[])?, context))
    }

    /// The highest layer's value of a setting.
    fn pick(&self, name: &'static str, scope: &[Table<'_>]) -> Option<Found> {
        self.found(name, scope).into_iter().next()
    }

    /// Settings with one value for the whole run. `root` holds the manifest's own package's
    /// table, whose metadata counts for run-wide settings such as `lambda_dir`.
    pub fn run_settings(&self, manifest_path: Sourced<PathBuf>, root: &[Table<'_>]) -> Result<RunSettings> {
        let jobs = self.parsed(
            "jobs",
            root,
            |t| t.trim().parse::<u32>().ok().filter(|n| *n > 0),
            "a whole number of 1 or more",
        )?;
        let shard = self.parsed("shard", root, Shard::parse, values::ACCEPTED_SHARDS)?;
        let zig_version = self
            .parsed(
                "zig-version",
                root,
                values::parse_zig_version,
                values::ACCEPTED_ZIG_VERSIONS,
            )?
            .or_default(settings::DEFAULT_ZIG_VERSION.to_owned());
        let text = |t: &str| Some(t.trim().to_owned());
        let message_format = self.each("message-format", root, |item, source| {
            MessageFormat::parse(item)
                .ok_or_else(|| invalid("message-format", item, source, values::ACCEPTED_MESSAGE_FORMATS))
        })?;
        let env_file = self.path("env-file", root)?;
        if let Some(file) = &env_file.value
            && !file.exists()
        {
            return Err(invalid(
                "env-file",
                &file.display().to_string(),
                &env_file.source,
                "an existing file of KEY=VALUE lines",
            ));
        }
        Ok(RunSettings {
            manifest_path,
            lambda_dir: self.path("lambda-dir", root)?,
            package: self.list("package", root)?,
            bin: self.list("bin", root)?,
            features: self.list("features", root)?,
            all_features: self.switch("all-features", root)?,
            no_default_features: self.switch("no-default-features", root)?,
            locked: self.switch("locked", root)?,
            frozen: self.switch("frozen", root)?,
            jobs,
            print_config: self.switch("print-config", root)?,
            toolchain_only: self.switch("toolchain-only", root)?,
            no_verify: self.switch("no-verify", root)?,
            shard,
            lock_timeout: self
                .parsed(
                    "lock-timeout",
                    root,
                    values::parse_lock_timeout,
                    values::ACCEPTED_LOCK_TIMEOUT,
                )?
                .or_default(values::DEFAULT_LOCK_TIMEOUT),
            smoke_timeout: self
                .parsed(
                    "smoke-timeout",
                    root,
                    values::parse_smoke_timeout,
                    values::ACCEPTED_SMOKE_TIMEOUT,
                )?
                .or_default(values::DEFAULT_SMOKE_TIMEOUT),
            smoke_all: self.switch("smoke-all", root)?,
            upload: self.list("upload", root)?,
            s3_keys: self
                .parsed("s3-keys", root, S3Keys::parse, values::ACCEPTED_S3_KEYS)?
                .or_default(S3Keys::Content),
            upload_timeout: self
                .parsed(
                    "upload-timeout",
                    root,
                    values::parse_upload_timeout,
                    values::ACCEPTED_UPLOAD_TIMEOUT,
                )?
                .or_default(values::DEFAULT_UPLOAD_TIMEOUT),
            s3_path_style: self.switch("s3-path-style", root)?,
            release_tag: self.parsed("release-tag", root, text, "a tag name")?,
            draft: self.switch("draft", root)?,
            prerelease: self.switch("prerelease", root)?,
            zig_version,
            flatten: self.parsed("flatten", root, text, "a binary name")?,
            workspace: self.switch("workspace", root)?,
            exclude: self.list("exclude", root)?,
            bins: self.switch("bins", root)?,
            examples: self.switch("examples", root)?,
            example: self.list("example", root)?,
            offline: self.switch("offline", root)?,
            keep_going: self.switch("keep-going", root)?,
            target_dir: self.path("target-dir", root)?,
            config: self.list("config", root)?,
            unstable_flags: self.list("unstable-flags", root)?,
            timings: self.switch("timings", root)?,
            ignore_rust_version: self.switch("ignore-rust-version", root)?,
            future_incompat_report: self.switch("future-incompat-report", root)?,
            message_format,
            color: self
                .parsed("color", root, Color::parse, values::ACCEPTED_COLORS)?
                .or_default(Color::Auto),
            quiet: self.switch("quiet", root)?,
            skip_target_check: self.switch("skip-target-check", root)?,
            env_var: self.env_vars(root)?,
            env_file,
            global: self.path("global", root)?,
            context: self.parsed("context", root, text, "a context name")?,
            admerge: self.switch("admerge", root)?,
        })
    }

    /// Settings for one binary, from the tables of `scope` (its per-binary, package and
    /// workspace per-binary tables; empty for the run-wide view) and the shared ones.
    pub fn package_settings(&self, scope: &[Table<'_>]) -> Result<PackageSettings> {
        let compiler = match self.pick("compiler", scope) {
            Some(found) => {
                let raw = found.raw;
                let text = compiler_text(&raw)?;
                let kind = CompilerKind::parse(&text)
                    .ok_or_else(|| invalid("compiler", &text, &raw.source, values::ACCEPTED_COMPILERS))?;
                Sourced::new(kind, raw.source)
            }
            None => Sourced::default_value(CompilerKind::CargoZigbuild),
        };
        let runtime = self
            .parsed("runtime", scope, Runtime::parse, values::ACCEPTED_RUNTIMES)?
            .or_default(Runtime::Al2023);
        let mut output_format = self.each("output-format", scope, |item, source| {
            OutputFormat::parse(item)
                .ok_or_else(|| invalid("output-format", item, source, values::ACCEPTED_OUTPUT_FORMATS))
        })?;
        if output_format.value.is_empty() {
            output_format.value.push(OutputFormat::Binary);
        }
        output_format.value.sort();
        output_format.value.dedup();
        let extension = match self.pick("extension", scope) {
            Some(found) => Sourced::new(Some(bool_of("extension", &found.raw)?), found.raw.source),
            None => Sourced::default_value(None),
        };
        let include = self.includes(scope)?;
        let disable_optimizations = self.switch("disable-optimizations", scope)?;
        Ok(PackageSettings {
            target: self.targets(scope)?,
            profile: self.profile(scope, disable_optimizations.value)?,
            disable_optimizations,
            output_format,
            extension,
            compiler,
            include,
            runtime,
            internal: self.switch("internal", scope)?,
            compiler_subcommand: self.list("compiler-subcommand", scope)?,
            compiler_extra_args: self.list("compiler-extra-args", scope)?,
            smoke: self.switch("smoke", scope)?,
            smoke_event: self.path("smoke-event", scope)?,
            smoke_expect: self
                .parsed("smoke-expect", scope, SmokeExpect::parse, values::ACCEPTED_SMOKE_EXPECT)?
                .or_default(SmokeExpect::Any),
        })
    }

    /// `--include`: each layer's items against that layer's folder (all layers with `--admerge`).
    fn includes(&self, scope: &[Table<'_>]) -> Result<Sourced<Vec<Include>>> {
        let found = self.found("include", scope);
        let mut includes = Vec::new();
        for f in found.iter().rev() {
            for item in items_of("include", &f.raw)? {
                includes.push(include_of(&item, &f.dir, &f.raw.source)?);
            }
        }
        Ok(Sourced::new(includes, joined_source(&found)))
    }

    /// `--env-var KEY=VALUE` items, also written as cargo-lambda's table form `{ KEY = "VALUE" }`.
    fn env_vars(&self, scope: &[Table<'_>]) -> Result<Sourced<Vec<(String, String)>>> {
        let mut found = self.found("env-var", scope);
        for f in &mut found {
            if let Raw::Json(Json::Object(table)) = &f.raw.raw {
                let mut items = Vec::new();
                for (key, value) in table {
                    let Some(text) = value.as_str() else {
                        return Err(Error::usage(format!(
                            "env_var {key} (from {}) is {}, not a string; accepted: a table of KEY = \"VALUE\" strings",
                            f.raw.source,
                            json_kind(value)
                        )));
                    };
                    items.push(format!("{key}={text}"));
                }
                f.raw.raw = Raw::Many(items);
            }
        }
        let mut vars = Vec::new();
        for f in found.iter().rev() {
            for item in items_of("env-var", &f.raw)? {
                let pair = item
                    .split_once('=')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .filter(|(k, v)| !k.is_empty() && !v.is_empty() && !k.contains(char::is_whitespace));
                // The item is not quoted back: its value may be a secret.
                let pair = pair.ok_or_else(|| {
                    let key = item.split_once('=').map_or("", |(k, _)| k.trim());
                    Error::usage(format!(
                        "invalid env-var with the key {key:?} (from {}): not KEY=VALUE with a key and a value; accepted: KEY=VALUE with a key and a value, comma-separated or repeated",
                        f.raw.source
                    ))
                })?;
                vars.retain(|(k, _): &(String, String)| *k != pair.0);
                vars.push(pair);
            }
        }
        Ok(Sourced::new(vars, joined_source(&found)))
    }

    /// The default target: cargo-lambda's (see [`values::default_target`]).
    fn default_target(&self) -> Sourced<Vec<Target>> {
        let host = self.host.get_or_init(|| (self.host_probe)());
        let (target, why) = values::default_target(host.as_deref());
        Sourced::new(vec![target], Source::HostDefault(why))
    }

    /// Targets come from the highest layer that mentions `target`, `arm64` or `x86_64`; within
    /// that layer they are the union of the three.
    fn targets(&self, scope: &[Table<'_>]) -> Result<Sourced<Vec<Target>>> {
        let picked: Vec<(&str, RawValue)> = ["target", "arm64", "x86-64"]
            .into_iter()
            .filter_map(|name| Some((name, self.pick(name, scope)?.raw)))
            .collect();
        let Some(best) = picked.iter().map(|(_, raw)| raw.source.rank()).min() else {
            return Ok(self.default_target());
        };
        let mut targets = Vec::new();
        let mut source = Source::Default;
        for (name, raw) in picked.into_iter().filter(|(_, raw)| raw.source.rank() == best) {
            match name {
                "target" => {
                    for item in items_of(name, &raw)? {
                        let target = Target::parse(&item)
                            .ok_or_else(|| invalid(name, &item, &raw.source, values::ACCEPTED_TARGETS))?;
                        targets.push(target);
                    }
                }
                "arm64" if bool_of(name, &raw)? => targets.push(Target::arm64()),
                "x86-64" if bool_of(name, &raw)? => targets.push(Target::x86_64()),
                _ => {}
            }
            if source == Source::Default {
                source = raw.source;
            }
        }
        if targets.is_empty() {
            // `arm64 = false` alone: the layer set no architecture, so the default one is built.
            targets = self.default_target().value;
        }
        targets.sort();
        targets.dedup();
        for pair in targets.windows(2) {
            if pair[0].triple() == pair[1].triple() {
                return Err(Error::usage(format!(
                    "conflicting targets {} and {} (from {source}): one run builds one glibc version per target triple",
                    pair[0], pair[1]
                )));
            }
        }
        Ok(Sourced::new(targets, source))
    }

    /// `--profile` and `--release` (the higher layer wins; in one layer they must agree), and
    /// `--disable-optimizations`, which turns the release tuning off.
    fn profile(&self, scope: &[Table<'_>], untuned: bool) -> Result<Sourced<Profile>> {
        let release = match self.pick("release", scope) {
            Some(found) => Some((bool_of("release", &found.raw)?, found.raw.source)),
            None => None,
        };
        let named = match self.pick("profile", scope) {
            Some(found) => {
                let raw = found.raw;
                let name = text_of("profile", &raw)?.trim().to_owned();
                let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !valid {
                    return Err(invalid(
                        "profile",
                        &name,
                        &raw.source,
                        "a cargo profile name (letters, digits, - and _)",
                    ));
                }
                Some((name, raw.source))
            }
            None => None,
        };
        let (name, source) = match (release, named) {
            (Some((true, rs)), Some((name, ps))) if rs.rank() == ps.rank() && name != "release" => {
                return Err(Error::usage(format!(
                    "conflicting profile: release (from {rs}) and profile {name:?} (from {ps}); set one of them"
                )));
            }
            (Some((true, rs)), Some((_, ps))) if rs.rank() < ps.rank() => ("release".to_owned(), rs),
            (_, Some((name, ps))) => (name, ps),
            (Some((true, rs)), None) => ("release".to_owned(), rs),
            (Some((false, rs)), None) => ("dev".to_owned(), rs),
            (None, None) => return Ok(Sourced::default_value(Profile::dev())),
        };
        let tuned = name == "release" && !untuned;
        Ok(Sourced::new(Profile { name, tuned }, source))
    }

    /// A one-value setting through its parser; `None` (from the default layer) when unset.
    fn parsed<T>(
        &self,
        name: &'static str,
        scope: &[Table<'_>],
        parse: impl Fn(&str) -> Option<T>,
        accepted: &str,
    ) -> Result<Sourced<Option<T>>> {
        match self.pick(name, scope) {
            Some(found) => {
                let raw = found.raw;
                let text = match &raw.raw {
                    // cargo-lambda's tables give the job count as a number (`jobs = 3`).
                    Raw::Json(Json::Number(n)) if name == "jobs" => n.to_string(),
                    _ => text_of(name, &raw)?,
                };
                let value = parse(&text).ok_or_else(|| invalid(name, &text, &raw.source, accepted))?;
                Ok(Sourced::new(Some(value), raw.source))
            }
            None => Ok(Sourced::default_value(None)),
        }
    }

    /// A path, relative to the folder of the layer that set it.
    fn path(&self, name: &'static str, scope: &[Table<'_>]) -> Result<Sourced<Option<PathBuf>>> {
        match self.pick(name, scope) {
            Some(found) => {
                let path = found.dir.join(text_of(name, &found.raw)?.trim());
                Ok(Sourced::new(Some(path), found.raw.source))
            }
            None => Ok(Sourced::default_value(None)),
        }
    }

    fn switch(&self, name: &'static str, scope: &[Table<'_>]) -> Result<Sourced<bool>> {
        match self.pick(name, scope) {
            Some(found) => Ok(Sourced::new(bool_of(name, &found.raw)?, found.raw.source)),
            None => Ok(Sourced::default_value(false)),
        }
    }

    /// A list's items, each through `parse` (all layers' with `--admerge`, lowest layer first as
    /// cargo-lambda appends them).
    fn each<T>(
        &self,
        name: &'static str,
        scope: &[Table<'_>],
        parse: impl Fn(&str, &Source) -> Result<T>,
    ) -> Result<Sourced<Vec<T>>> {
        let found = self.found(name, scope);
        let mut values = Vec::new();
        for f in found.iter().rev() {
            for item in items_of(name, &f.raw)? {
                values.push(parse(&item, &f.raw.source)?);
            }
        }
        Ok(Sourced::new(values, joined_source(&found)))
    }

    fn list(&self, name: &'static str, scope: &[Table<'_>]) -> Result<Sourced<Vec<String>>> {
        self.each(name, scope, |item, _| Ok(item.to_owned()))
    }
}

/// The source of a list made of `found` layers: the one layer's, several joined, or the default.
fn joined_source(found: &[Found]) -> Source {
    match found {
        [] => Source::Default,
        [one] => one.raw.source.clone(),
        many => Source::Merged(many.iter().map(|f| f.raw.source.clone()).collect()),
    }
}

/// A JSON value's kind in words, for an error that must not quote the value.
fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a table",
    }
}

/// A one-line usage error: the input, where its value came from, and what is accepted.
pub fn invalid(name: &str, value: &str, source: &Source, accepted: &str) -> Error {
    Error::usage(format!(
        "invalid {} {value:?} from {}; accepted: {accepted}",
        name.replace('-', " "),
        input_name(name, source)
    ))
}

/// The input a value came from, as errors name it: `flag --target`, `env LAMBDA_BUILD_TARGET`,
/// or the key and its table, `target in [workspace.metadata.lambda.build]`.
pub fn input_name(name: &str, source: &Source) -> String {
    match source.is_table() {
        true => format!("{} in {source}", settings::get(name).table_keys()[0]),
        false => source.to_string(),
    }
}

/// A key's value in a configuration table (a dotted key is a path into sub-tables); `None` when
/// absent or a blank string, which counts as unset like an empty flag or variable
/// (`lambda_dir = ""` must not mean the package folder).
fn written<'j>(table: &'j Json, key: &str) -> Option<&'j Json> {
    key.split('.')
        .try_fold(table, |table, part| table.get(part))
        .filter(|value| !matches!(value, Json::String(text) if text.trim().is_empty()))
}

/// A one-value setting's text. Metadata must give a TOML string: `lambda_dir = 5` is a mistake,
/// not a folder named `5`.
fn text_of(name: &str, raw: &RawValue) -> Result<String> {
    match &raw.raw {
        Raw::Text(text) => Ok(text.clone()),
        Raw::Many(items) => Ok(items.join(",")),
        Raw::Json(Json::String(text)) => Ok(text.clone()),
        Raw::Json(other) => Err(invalid(name, &other.to_string(), &raw.source, "a string")),
    }
}

fn bool_of(name: &str, raw: &RawValue) -> Result<bool> {
    let text = match &raw.raw {
        Raw::Json(Json::Bool(b)) => return Ok(*b),
        Raw::Json(Json::String(text)) | Raw::Text(text) => text.clone(),
        Raw::Many(items) => items.join(","),
        Raw::Json(other) => other.to_string(),
    };
    values::parse_bool(&text).ok_or_else(|| invalid(name, &text, &raw.source, values::ACCEPTED_BOOLEANS))
}

/// List items: repeated flags, text cut as the setting says ([`Split`]: commas for most), or a
/// table's string or array of strings (whose items are cut only at commas, and only where text
/// is cut at commas).
fn items_of(name: &str, raw: &RawValue) -> Result<Vec<String>> {
    let setting: &Setting = settings::get(name);
    let texts: Vec<String> = match &raw.raw {
        Raw::Text(text) => vec![text.clone()],
        Raw::Many(items) => items.clone(),
        Raw::Json(Json::String(text)) => vec![text.clone()],
        Raw::Json(Json::Array(items)) => items
            .iter()
            .map(|item| match item {
                Json::String(text) => Ok(text.clone()),
                other => Err(invalid(
                    name,
                    &other.to_string(),
                    &raw.source,
                    "a string or an array of strings",
                )),
            })
            .collect::<Result<_>>()?,
        Raw::Json(other) => {
            return Err(invalid(
                name,
                &other.to_string(),
                &raw.source,
                "a string or an array of strings",
            ));
        }
    };
    let array = matches!(raw.raw, Raw::Json(Json::Array(_)));
    let cut = |text: &'_ String| -> Vec<String> {
        match (setting.split, array) {
            // Lines too: a multi-line Action input (`upload: |` with one destination per line).
            (Split::Comma, _) => text.split([',', '\n']).map(str::to_owned).collect(),
            (Split::Space, false) => text.split_whitespace().map(str::to_owned).collect(),
            (Split::Space, true) | (Split::Whole, _) => vec![text.clone()],
        }
    };
    let items: Vec<String> = texts
        .iter()
        .flat_map(cut)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    // A value was written (blank ones never get here) but holds no item: `--target ,`. Taking it
    // as an empty list would silently fall back to the default; an empty TOML array stays valid.
    if items.is_empty() && !texts.is_empty() {
        let written = match &raw.raw {
            Raw::Json(array @ Json::Array(_)) => array.to_string(),
            _ => texts.join(","),
        };
        return Err(invalid(
            name,
            &written,
            &raw.source,
            "at least one item, comma-separated (this value has no items; an empty value counts as unset)",
        ));
    }
    Ok(items)
}

/// The compiler may be written `compiler = "cargo"` or, as cargo-lambda does,
/// `[package.metadata.lambda.build.compiler] type = "cargo"`.
fn compiler_text(raw: &RawValue) -> Result<String> {
    match &raw.raw {
        Raw::Json(Json::Object(table)) => match table.get("type") {
            Some(Json::String(text)) => Ok(text.clone()),
            _ => Err(invalid(
                "compiler",
                &Json::Object(table.clone()).to_string(),
                &raw.source,
                "a table with type = \"cargo-zigbuild\" | \"cargo\" | \"cross\"",
            )),
        },
        _ => text_of("compiler", raw),
    }
}

/// One `--include` item: `PATH` (in the zip under its relative path, or its file name when it
/// leaves the folder) or cargo-lambda's `DEST:SRC` (SRC's file, or folder's contents, at DEST).
fn include_of(item: &str, base: &Path, source: &Source) -> Result<Include> {
    let (dest, written) = match item.split_once(':') {
        Some((dest, src)) => (Some(dest.trim()), Path::new(src.trim())),
        None => (None, Path::new(item)),
    };
    let path = base.join(written);
    if !path.exists() {
        return Err(Error::usage(format!(
            "include path {:?} from {source} does not exist (looked for {}); accepted: existing files or folders, relative to {}, as PATH or DEST:PATH",
            written.display().to_string(),
            path.display(),
            base.display()
        )));
    }
    let name = match dest {
        Some(dest) => plain_name(Path::new(dest)).ok_or_else(|| {
            invalid(
                "include",
                item,
                source,
                "DEST:PATH with DEST a relative path inside the zip (no .., not absolute, not empty)",
            )
        })?,
        None => match plain_name(written) {
            Some(name) => name,
            None => {
                let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                real.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            }
        },
    };
    if name.is_empty() {
        return Err(invalid(
            "include",
            item,
            source,
            "a file or folder below the current directory, or a path with a file name",
        ));
    }
    Ok(Include { path, name })
}

/// A relative path of plain components as a `/`-separated zip entry name; `None` for an
/// absolute path, one with `..`, or one naming nothing (`.`).
fn plain_name(path: &Path) -> Option<String> {
    let plain = path.is_relative()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    (plain && !parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests;
