//! Resolution: the flag/env layer, then package metadata, then workspace metadata, then the
//! default; raw text validated into typed values, each keeping its source.

use std::path::{Component, Path, PathBuf};

use serde_json::Value as Json;

use super::source::{Raw, RawValue, Source, Sourced};
use super::values::{self, CompilerKind, OutputFormat, Profile, Runtime, Shard, Target};
use super::{Include, PackageSettings, RunSettings};
use crate::cli::Inputs;
use crate::error::{Error, Result};
use crate::settings::{self, Reach};

/// One package's `[package.metadata.lambda.build]`.
#[derive(Clone, Copy, Debug)]
pub struct MetadataLayer<'a> {
    /// The package name.
    pub package: &'a str,
    /// The package folder: metadata paths are relative to it.
    pub dir: &'a Path,
    /// The `lambda.build` table, if the package has one.
    pub build: Option<&'a Json>,
}

/// Resolves settings from the flag/env layer and Cargo.toml metadata.
#[derive(Debug)]
pub struct Resolver<'a> {
    inputs: &'a Inputs,
    cwd: PathBuf,
    workspace_root: PathBuf,
    workspace: Option<&'a Json>,
}

/// The `lambda.build` table inside a `metadata` value from `cargo metadata`.
pub fn lambda_build_table(metadata: &Json) -> Option<&Json> {
    metadata.get("lambda")?.get("build").filter(|t| t.is_object())
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
    /// A resolver over the flag/env layer and the workspace's `lambda.build` metadata.
    pub fn new(inputs: &'a Inputs, cwd: PathBuf, workspace_root: PathBuf, workspace: Option<&'a Json>) -> Self {
        Resolver {
            inputs,
            cwd,
            workspace_root,
            workspace,
        }
    }

    /// The highest-precedence raw value of a setting for a package (or the run, with `None`).
    fn pick(&self, name: &'static str, package: Option<MetadataLayer<'_>>) -> Option<RawValue> {
        if let Some(value) = self.inputs.get(name) {
            return Some(value.clone());
        }
        let setting = settings::get(name);
        if setting.reach != Reach::Metadata {
            return None;
        }
        let key = setting.key();
        if let Some(layer) = package
            && let Some(value) = layer.build.and_then(|t| written(t, &key))
        {
            return Some(RawValue {
                raw: Raw::Json(value.clone()),
                source: Source::PackageMetadata(layer.package.to_owned()),
            });
        }
        let value = self.workspace.and_then(|t| written(t, &key))?;
        Some(RawValue {
            raw: Raw::Json(value.clone()),
            source: Source::WorkspaceMetadata,
        })
    }

    /// The folder relative paths from `source` are resolved against.
    fn base_dir(&self, source: &Source, package: Option<MetadataLayer<'_>>) -> PathBuf {
        match (source, package) {
            (Source::PackageMetadata(_), Some(layer)) => layer.dir.to_path_buf(),
            (Source::WorkspaceMetadata, _) => self.workspace_root.clone(),
            _ => self.cwd.clone(),
        }
    }

    /// Settings with one value for the whole run. `root` is the manifest's own package, whose
    /// metadata counts for run-wide settings such as `lambda_dir`.
    pub fn run_settings(
        &self,
        manifest_path: Sourced<PathBuf>,
        root: Option<MetadataLayer<'_>>,
    ) -> Result<RunSettings> {
        let lambda_dir = match self.pick("lambda-dir", root) {
            Some(raw) => {
                let dir = self.base_dir(&raw.source, root).join(text_of("lambda-dir", &raw)?);
                Sourced::new(Some(dir), raw.source)
            }
            None => Sourced::default_value(None),
        };
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
        Ok(RunSettings {
            manifest_path,
            lambda_dir,
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
            upload: self.parsed("upload", root, |t| Some(t.trim().to_owned()), "github-release")?,
            release_tag: self.parsed("release-tag", root, |t| Some(t.trim().to_owned()), "a tag name")?,
            draft: self.switch("draft", root)?,
            prerelease: self.switch("prerelease", root)?,
            zig_version,
        })
    }

    /// Settings for one package's binaries (`None`: the run-wide view, for `--print-config`).
    pub fn package_settings(&self, package: Option<MetadataLayer<'_>>) -> Result<PackageSettings> {
        let compiler = match self.pick("compiler", package) {
            Some(raw) => {
                let text = compiler_text(&raw)?;
                let kind = CompilerKind::parse(&text)
                    .ok_or_else(|| invalid("compiler", &text, &raw.source, values::ACCEPTED_COMPILERS))?;
                Sourced::new(kind, raw.source)
            }
            None => Sourced::default_value(CompilerKind::CargoZigbuild),
        };
        let runtime = self
            .parsed("runtime", package, Runtime::parse, values::ACCEPTED_RUNTIMES)?
            .or_default(Runtime::Al2023);
        let output_format = match self.pick("output-format", package) {
            Some(raw) => {
                let mut formats = Vec::new();
                for item in items_of("output-format", &raw)? {
                    let format = OutputFormat::parse(&item)
                        .ok_or_else(|| invalid("output-format", &item, &raw.source, values::ACCEPTED_OUTPUT_FORMATS))?;
                    formats.push(format);
                }
                if formats.is_empty() {
                    return Err(invalid(
                        "output-format",
                        "",
                        &raw.source,
                        values::ACCEPTED_OUTPUT_FORMATS,
                    ));
                }
                formats.sort();
                formats.dedup();
                Sourced::new(formats, raw.source)
            }
            None => Sourced::default_value(vec![OutputFormat::Binary]),
        };
        let extension = match self.pick("extension", package) {
            Some(raw) => Sourced::new(Some(bool_of("extension", &raw)?), raw.source),
            None => Sourced::default_value(None),
        };
        let include = match self.pick("include", package) {
            Some(raw) => {
                let base = self.base_dir(&raw.source, package);
                let includes = items_of("include", &raw)?
                    .iter()
                    .map(|item| include_of(item, &base, &raw.source))
                    .collect::<Result<Vec<_>>>()?;
                Sourced::new(includes, raw.source)
            }
            None => Sourced::default_value(Vec::new()),
        };
        let disable_optimizations = self.switch("disable-optimizations", package)?;
        Ok(PackageSettings {
            target: self.targets(package)?,
            profile: self.profile(package, disable_optimizations.value)?,
            disable_optimizations,
            output_format,
            extension,
            compiler,
            include,
            runtime,
        })
    }

    /// Targets come from the highest layer that mentions `target`, `arm64` or `x86_64`; within
    /// that layer they are the union of the three.
    fn targets(&self, package: Option<MetadataLayer<'_>>) -> Result<Sourced<Vec<Target>>> {
        let picked: Vec<(&str, RawValue)> = ["target", "arm64", "x86-64"]
            .into_iter()
            .filter_map(|name| Some((name, self.pick(name, package)?)))
            .collect();
        let Some(best) = picked.iter().map(|(_, raw)| raw.source.rank()).min() else {
            return Ok(Sourced::default_value(vec![Target::x86_64()]));
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
            targets.push(Target::x86_64());
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
    fn profile(&self, package: Option<MetadataLayer<'_>>, untuned: bool) -> Result<Sourced<Profile>> {
        let release = match self.pick("release", package) {
            Some(raw) => Some((bool_of("release", &raw)?, raw.source)),
            None => None,
        };
        let named = match self.pick("profile", package) {
            Some(raw) => {
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
        layer: Option<MetadataLayer<'_>>,
        parse: impl Fn(&str) -> Option<T>,
        accepted: &str,
    ) -> Result<Sourced<Option<T>>> {
        match self.pick(name, layer) {
            Some(raw) => {
                let text = text_of(name, &raw)?;
                let value = parse(&text).ok_or_else(|| invalid(name, &text, &raw.source, accepted))?;
                Ok(Sourced::new(Some(value), raw.source))
            }
            None => Ok(Sourced::default_value(None)),
        }
    }

    fn switch(&self, name: &'static str, package: Option<MetadataLayer<'_>>) -> Result<Sourced<bool>> {
        match self.pick(name, package) {
            Some(raw) => Ok(Sourced::new(bool_of(name, &raw)?, raw.source)),
            None => Ok(Sourced::default_value(false)),
        }
    }

    fn list(&self, name: &'static str, package: Option<MetadataLayer<'_>>) -> Result<Sourced<Vec<String>>> {
        match self.pick(name, package) {
            Some(raw) => Ok(Sourced::new(items_of(name, &raw)?, raw.source)),
            None => Ok(Sourced::default_value(Vec::new())),
        }
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
    match source {
        Source::PackageMetadata(_) | Source::WorkspaceMetadata => {
            format!("{} in {source}", settings::get(name).key())
        }
        Source::Flag(_) | Source::Env(_) | Source::Default => source.to_string(),
    }
}

/// A key's value in a metadata table; `None` when absent or a blank string, which counts as
/// unset like an empty flag or variable (`lambda_dir = ""` must not mean the package folder).
fn written<'j>(table: &'j Json, key: &str) -> Option<&'j Json> {
    table
        .get(key)
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

/// List items: repeated flags, comma-separated text, or a metadata string or array of strings.
fn items_of(name: &str, raw: &RawValue) -> Result<Vec<String>> {
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
    let items: Vec<String> = texts
        .iter()
        .flat_map(|t| t.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
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

fn include_of(item: &str, base: &Path, source: &Source) -> Result<Include> {
    let written = Path::new(item);
    let path = base.join(written);
    if !path.exists() {
        return Err(Error::usage(format!(
            "include path {item:?} from {source} does not exist (looked for {}); accepted: existing files or folders, relative to {}",
            path.display(),
            base.display()
        )));
    }
    let plain = written.is_relative()
        && written
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    let name = if plain {
        written
            .components()
            .filter_map(|c| match c {
                Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/")
    } else {
        let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        real.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::values::{Arch, Libc};
    use serde_json::json;

    fn text(source: Source, value: &str) -> RawValue {
        RawValue {
            raw: Raw::Text(value.into()),
            source,
        }
    }

    fn env(name: &str, value: &str) -> RawValue {
        text(Source::Env(name.into()), value)
    }

    fn flag(name: &str, value: &str) -> RawValue {
        text(Source::Flag(format!("--{name}")), value)
    }

    fn resolve(
        inputs: Vec<(&'static str, RawValue)>,
        package: Option<Json>,
        workspace: Option<Json>,
    ) -> Result<PackageSettings> {
        let inputs = Inputs::from_values(inputs);
        let dir = std::env::temp_dir();
        let resolver = Resolver::new(&inputs, dir.clone(), dir.clone(), workspace.as_ref());
        let layer = package.as_ref().map(|build| MetadataLayer {
            package: "hello",
            dir: &dir,
            build: Some(build),
        });
        resolver.package_settings(layer)
    }

    /// (inputs, package metadata, workspace metadata, expected compiler, expected source)
    type PrecedenceCase = (
        Vec<(&'static str, RawValue)>,
        Option<Json>,
        Option<Json>,
        CompilerKind,
        &'static str,
    );
    /// (inputs, package metadata, what the error must say)
    type BadCase = (Vec<(&'static str, RawValue)>, Option<Json>, &'static [&'static str]);

    fn err(result: Result<PackageSettings>) -> String {
        match result {
            Err(Error::Usage(message)) => message,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn precedence_table() {
        // (inputs, package metadata, workspace metadata, expected compiler, expected source)
        let pkg = Some(json!({"compiler": {"type": "cross"}}));
        let ws = Some(json!({"compiler": "cargo"}));
        let cases: Vec<PrecedenceCase> = vec![
            (vec![], None, None, CompilerKind::CargoZigbuild, "default"),
            (
                vec![],
                None,
                ws.clone(),
                CompilerKind::Cargo,
                "[workspace.metadata.lambda.build]",
            ),
            (
                vec![],
                pkg.clone(),
                ws.clone(),
                CompilerKind::Cross,
                "[package.metadata.lambda.build] of package hello",
            ),
            (
                vec![("compiler", env("CARGO_LAMBDA_COMPILER", "cargo"))],
                pkg.clone(),
                ws.clone(),
                CompilerKind::Cargo,
                "env CARGO_LAMBDA_COMPILER",
            ),
            (
                vec![("compiler", env("INPUT_COMPILER", "zigbuild"))],
                pkg.clone(),
                ws.clone(),
                CompilerKind::CargoZigbuild,
                "env INPUT_COMPILER",
            ),
            (
                vec![("compiler", flag("compiler", "CARGO"))],
                pkg,
                ws,
                CompilerKind::Cargo,
                "flag --compiler",
            ),
        ];
        for (inputs, pkg, ws, expected, source) in cases {
            let settings = resolve(inputs, pkg, ws).unwrap();
            assert_eq!(settings.compiler.value, expected);
            assert_eq!(settings.compiler.source.to_string(), source);
        }
    }

    #[test]
    fn bad_values_name_the_input_its_source_and_what_is_accepted() {
        let cases: Vec<BadCase> = vec![
            (
                vec![("target", env("LAMBDA_BUILD_TARGET", "x86_64,mips"))],
                None,
                &[
                    "invalid target \"mips\"",
                    "env LAMBDA_BUILD_TARGET",
                    "aarch64-unknown-linux-gnu",
                ],
            ),
            (
                vec![("output-format", flag("output-format", "tar"))],
                None,
                &["invalid output format \"tar\"", "flag --output-format", "binary, zip"],
            ),
            (
                vec![("release", env("INPUT_RELEASE", "maybe"))],
                None,
                &["invalid release \"maybe\"", "env INPUT_RELEASE", "true, false"],
            ),
            (
                vec![("compiler", env("CARGO_LAMBDA_COMPILER", "gcc"))],
                None,
                &[
                    "invalid compiler \"gcc\"",
                    "env CARGO_LAMBDA_COMPILER",
                    "cargo-zigbuild",
                ],
            ),
            (
                vec![],
                Some(json!({"arm64": "sometimes"})),
                &[
                    "invalid arm64 \"sometimes\"",
                    "arm64 in [package.metadata.lambda.build] of package hello",
                ],
            ),
            (
                vec![],
                Some(json!({"output_format": 3})),
                &[
                    "output_format in [package.metadata.lambda.build]",
                    "a string or an array",
                ],
            ),
            (
                vec![],
                Some(json!({"include": ["no/such/file"]})),
                &["include path \"no/such/file\"", "does not exist"],
            ),
            (
                vec![(
                    "target",
                    flag("target", "x86_64-unknown-linux-gnu.2.17,x86_64-unknown-linux-gnu.2.26"),
                )],
                None,
                &["conflicting targets"],
            ),
            (
                vec![
                    ("release", flag("release", "true")),
                    ("profile", flag("profile", "dev")),
                ],
                None,
                &["conflicting profile"],
            ),
        ];
        for (inputs, pkg, needles) in cases {
            let message = err(resolve(inputs, pkg, None));
            assert!(!message.contains('\n'), "{message}");
            for needle in needles {
                assert!(message.contains(needle), "{message:?} lacks {needle:?}");
            }
        }
    }

    #[test]
    fn blank_metadata_strings_are_unset_and_lists_without_items_are_refused() {
        let blank = resolve(
            vec![],
            Some(json!({"compiler": " "})),
            Some(json!({"compiler": "cross"})),
        )
        .unwrap();
        assert_eq!(blank.compiler.source, Source::WorkspaceMetadata);
        let empty_array = resolve(vec![], Some(json!({"include": []})), None).unwrap();
        assert_eq!(empty_array.include.value, []);
        for (inputs, pkg) in [
            (vec![("target", env("LAMBDA_BUILD_TARGET", ","))], None),
            (vec![], Some(json!({"target": ["", " "]}))),
            (vec![], Some(json!({"output_format": ","}))),
        ] {
            let message = err(resolve(inputs, pkg, None));
            assert!(message.contains("this value has no items"), "{message}");
        }
        let number = err(resolve(vec![], Some(json!({"runtime": 2023})), None));
        assert!(number.contains("accepted: a string"), "{number}");
    }

    #[test]
    fn lambda_dirs_under_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        check_lambda_dir(&dir.path().join("new/deeper"), &Source::Default).unwrap();
        check_lambda_dir(dir.path(), &Source::Default).unwrap();
        for bad in [file.clone(), file.join("out/more")] {
            let Err(Error::Usage(message)) = check_lambda_dir(&bad, &Source::Flag("--lambda-dir".into())) else {
                panic!("{} was accepted", bad.display());
            };
            assert!(message.contains("(from flag --lambda-dir)"), "{message}");
            assert!(message.contains(&file.display().to_string()), "{message}");
            assert!(message.contains("is a file"), "{message}");
        }
    }

    #[test]
    fn targets_come_from_the_highest_layer_that_mentions_any_arch_key() {
        let both = resolve(
            vec![("arm64", flag("arm64", "true")), ("x86-64", flag("x86-64", "true"))],
            None,
            None,
        )
        .unwrap();
        assert_eq!(both.target.value, vec![Target::x86_64(), Target::arm64()]);
        // A flag beats package metadata entirely, even though they name different keys.
        let flag_wins = resolve(
            vec![("target", flag("target", "x86_64"))],
            Some(json!({"arm64": true})),
            None,
        )
        .unwrap();
        assert_eq!(flag_wins.target.value, vec![Target::x86_64()]);
        let meta = resolve(
            vec![],
            Some(json!({"target": ["arm64", "x86_64-unknown-linux-musl"]})),
            None,
        )
        .unwrap();
        assert_eq!(
            meta.target.value,
            vec![
                Target {
                    arch: Arch::X86_64,
                    libc: Libc::Musl
                },
                Target::arm64()
            ]
        );
        let off = resolve(
            vec![("arm64", env("LAMBDA_BUILD_ARM64", "off"))],
            None,
            Some(json!({"arm64": true})),
        )
        .unwrap();
        assert_eq!(off.target.value, vec![Target::x86_64()]);
        assert_eq!(off.target.source, Source::Env("LAMBDA_BUILD_ARM64".into()));
    }

    #[test]
    fn profile_and_release_tuning() {
        let dev = resolve(vec![], None, None).unwrap().profile;
        assert_eq!((dev.value.name.as_str(), dev.value.tuned), ("dev", false));
        let rel = resolve(vec![("release", env("LAMBDA_BUILD_RELEASE", "yes"))], None, None)
            .unwrap()
            .profile;
        assert_eq!((rel.value.name.as_str(), rel.value.tuned), ("release", true));
        let untuned = resolve(
            vec![],
            Some(json!({"release": true, "disable_optimizations": true})),
            None,
        )
        .unwrap()
        .profile;
        assert_eq!((untuned.value.name.as_str(), untuned.value.tuned), ("release", false));
        let flag_over_meta = resolve(
            vec![("profile", flag("profile", "dev"))],
            Some(json!({"release": true})),
            None,
        )
        .unwrap()
        .profile;
        assert_eq!(flag_over_meta.value.name, "dev");
        let custom = resolve(vec![("profile", flag("profile", "lambda"))], None, None)
            .unwrap()
            .profile;
        assert_eq!((custom.value.name.as_str(), custom.value.tuned), ("lambda", false));
    }

    #[test]
    fn output_formats_and_includes() {
        let both = resolve(
            vec![("output-format", env("INPUT_OUTPUT-FORMAT", "ZIP, binary"))],
            None,
            None,
        )
        .unwrap();
        assert_eq!(both.output_format.value, vec![OutputFormat::Binary, OutputFormat::Zip]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("conf/sub")).unwrap();
        let inc = include_of("./conf/sub", dir.path(), &Source::Default).unwrap();
        assert_eq!(inc.name, "conf/sub");
        let up = include_of("../", &dir.path().join("conf/sub"), &Source::Default).unwrap();
        assert_eq!(up.name, "conf");
    }
}
