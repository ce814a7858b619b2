//! The plan: which cargo invocations run and which artifacts each produces, where. Plain data,
//! computed without side effects, so it can be printed and unit-tested without compiling.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{
    Arch, Color, CompilerKind, Include, Libc, MessageFormat, OutputFormat, PackageSettings, Profile, RunSettings,
    Runtime, SmokeExpect, Target,
};
use crate::discover::{Binary, Kind, TargetKind};
use crate::error::{Error, Result};
use crate::tuning::Tuning;

/// Everything a run will do.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// The Cargo.toml being built.
    pub manifest_path: PathBuf,
    /// The workspace root (where cargo runs rustc, so diagnostics' paths are relative to it).
    pub workspace_root: PathBuf,
    /// cargo's target directory.
    pub target_dir: PathBuf,
    /// Where artifacts and records go.
    pub lambda_dir: PathBuf,
    /// Run-wide cargo flags, given to every invocation.
    pub cargo: CargoFlags,
    /// Cargo invocations, in order.
    pub invocations: Vec<Invocation>,
    /// Artifacts, sorted by output path.
    pub artifacts: Vec<Artifact>,
}

/// One cargo invocation: every target of a group of packages that share compiler and profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Invocation {
    /// The backend.
    pub compiler: CompilerKind,
    /// The profile.
    pub profile: Profile,
    /// All targets, built together.
    pub targets: Vec<Target>,
    /// `-p` arguments.
    pub packages: Vec<String>,
    /// `--bin` arguments.
    pub bins: Vec<String>,
    /// `--example` arguments (example targets built as functions).
    pub examples: Vec<String>,
    /// With the cargo compiler: what runs instead of `build` (the compiler table's `subcommand`).
    pub subcommand: Vec<String>,
    /// With the cargo compiler: arguments appended to the command (the table's `extra_args`).
    pub extra_args: Vec<String>,
    /// The Lambda release tuning, or why there is none (details filled in by
    /// [`crate::tuning::tune`] once the plan is made).
    pub tuning: Tuning,
}

/// One binary for one target, and the files made from it.
#[derive(Clone, Debug, Serialize)]
pub struct Artifact {
    /// The binary's name.
    pub name: String,
    /// Its package.
    pub package: String,
    /// cargo's package id.
    #[serde(skip)]
    pub package_id: String,
    /// Function or extension.
    pub kind: Kind,
    /// A bin or an example target.
    pub target_kind: TargetKind,
    /// An internal extension: its zip holds the executable at the root (`--internal`).
    pub internal: bool,
    /// The target.
    pub target: Target,
    /// The profile.
    pub profile: Profile,
    /// Index into [`Plan::invocations`].
    pub invocation: usize,
    /// Where cargo writes the binary: `target/<triple>/<profile-dir>/[examples/]<name>`.
    pub binary: PathBuf,
    /// Files to produce, relative to the lambda dir.
    pub outputs: Vec<Output>,
    /// Extra files for zips.
    pub include: Vec<Include>,
    /// The Lambda runtime it must start on.
    pub runtime: Runtime,
    /// `--smoke`: how to invoke it once before packaging; `None` when it is not smoke-tested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smoke: Option<SmokeSpec>,
}

/// How a smoke test invokes one artifact (see [`crate::smoke`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SmokeSpec {
    /// The event file; `None`: the default event.
    pub event: Option<PathBuf>,
    /// The folder the event file must be inside: the workspace, when the repository's metadata
    /// names it; `None` when the user did (a flag or variable).
    pub event_inside: Option<PathBuf>,
    /// The outcome the invocation must have.
    pub expect: SmokeExpect,
    /// It uses `lambda_http`: the default event is an API Gateway request.
    pub http: bool,
}

/// A binary cargo reported building: (package id, binary name, target triple).
pub type BuiltKey = (String, String, String);

impl Artifact {
    /// The key cargo's build messages file this artifact's executable under.
    pub fn built_key(&self) -> BuiltKey {
        (self.package_id.clone(), self.name.clone(), self.target.triple())
    }
}

/// One file to produce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Output {
    /// Binary or zip.
    pub format: OutputFormat,
    /// Path relative to the lambda dir, `/`-separated.
    pub path: String,
}

/// Run-wide cargo flags shared by every invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CargoFlags {
    /// `--features`.
    pub features: Vec<String>,
    /// `--all-features`.
    pub all_features: bool,
    /// `--no-default-features`.
    pub no_default_features: bool,
    /// `--locked`.
    pub locked: bool,
    /// `--frozen`.
    pub frozen: bool,
    /// `--offline`.
    pub offline: bool,
    /// `-j`.
    pub jobs: Option<u32>,
    /// `--keep-going`.
    pub keep_going: bool,
    /// `--target-dir`, when the user set one (cargo's own otherwise).
    pub target_dir: Option<PathBuf>,
    /// `--config`, before the release tuning's own.
    pub config: Vec<String>,
    /// `-Z`.
    pub unstable_flags: Vec<String>,
    /// `--timings`.
    pub timings: bool,
    /// `--ignore-rust-version`.
    pub ignore_rust_version: bool,
    /// `--future-incompat-report`.
    pub future_incompat_report: bool,
    /// `--quiet`.
    pub quiet: bool,
    /// `--color`, when set.
    pub color: Option<Color>,
    /// How diagnostics are rendered (`--message-format`).
    pub message_format: Vec<MessageFormat>,
    /// Variables set on the cargo command (`--env-file`, then `--env-var`); only their names
    /// are printed, as an env file may hold secrets.
    #[serde(serialize_with = "names_only")]
    pub env: BTreeMap<String, String>,
}

fn names_only<S: serde::Serializer>(env: &BTreeMap<String, String>, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(env.keys())
}

impl CargoFlags {
    /// The flags from the run settings, with the build's variables.
    pub fn from_run(run: &RunSettings, env: BTreeMap<String, String>) -> Self {
        CargoFlags {
            features: run.features.value.clone(),
            all_features: run.all_features.value,
            no_default_features: run.no_default_features.value,
            locked: run.locked.value,
            frozen: run.frozen.value,
            offline: run.offline.value,
            jobs: run.jobs.value,
            keep_going: run.keep_going.value,
            target_dir: run.target_dir.value.clone(),
            config: run.config.value.clone(),
            unstable_flags: run.unstable_flags.value.clone(),
            timings: run.timings.value,
            ignore_rust_version: run.ignore_rust_version.value,
            future_incompat_report: run.future_incompat_report.value,
            quiet: run.quiet.value,
            color: (!run.color.source.is_default()).then_some(run.color.value),
            message_format: run.message_format.value.clone(),
            env,
        }
    }
}

/// What binaries must share to be built by one invocation: compiler, profile, targets, and the
/// cargo compiler's subcommand and extra arguments.
type GroupKey = (CompilerKind, Profile, Vec<Target>, Vec<String>, Vec<String>);

/// A selected binary with its settings.
#[derive(Clone, Debug)]
pub struct Selected<'a> {
    /// The binary.
    pub binary: &'a Binary,
    /// Its package's resolved settings.
    pub settings: &'a PackageSettings,
}

/// Builds the plan. Packages whose settings need different invocations (compiler, profile or
/// targets) are grouped; cross gets one invocation per target since it runs one container each.
/// `flatten` names the function whose files go directly in the lambda dir (`--flatten`).
pub fn plan(
    selected: &[Selected<'_>],
    manifest_path: &Path,
    workspace_root: &Path,
    target_dir: &Path,
    lambda_dir: &Path,
    cargo: CargoFlags,
    flatten: Option<&str>,
) -> Result<Plan> {
    check_flatten(selected, flatten)?;
    let all_triples: BTreeSet<(Arch, String)> = selected
        .iter()
        .flat_map(|s| s.settings.target.value.iter())
        .map(|t| (t.arch, t.triple()))
        .collect();
    let arch_dirs = arch_dirs(&all_triples);

    let mut groups: BTreeMap<GroupKey, Vec<&Selected<'_>>> = BTreeMap::new();
    for s in selected {
        let compiler = s.settings.compiler.value;
        check_compiler_fits(s, compiler)?;
        // cargo-zigbuild links a -gnu target against the runtime's glibc unless the user pinned one.
        let runtime = s.settings.runtime.value;
        let targets: Vec<Target> = s
            .settings
            .target
            .value
            .iter()
            .map(|t| match compiler {
                CompilerKind::CargoZigbuild => t.for_runtime(runtime),
                CompilerKind::Cargo | CompilerKind::Cross => t.clone(),
            })
            .collect();
        let target_sets: Vec<Vec<Target>> = if compiler == CompilerKind::Cross {
            targets.into_iter().map(|t| vec![t]).collect()
        } else {
            vec![targets]
        };
        // The compiler table's subcommand and extra arguments are the cargo compiler's only.
        let (subcommand, extra_args) = match compiler {
            CompilerKind::Cargo => (
                s.settings.compiler_subcommand.value.clone(),
                s.settings.compiler_extra_args.value.clone(),
            ),
            CompilerKind::CargoZigbuild | CompilerKind::Cross => (Vec::new(), Vec::new()),
        };
        for targets in target_sets {
            let key = (
                compiler,
                s.settings.profile.value.clone(),
                targets,
                subcommand.clone(),
                extra_args.clone(),
            );
            groups.entry(key).or_default().push(s);
        }
    }

    let mut invocations = Vec::new();
    let mut artifacts = Vec::new();
    for ((compiler, profile, targets, subcommand, extra_args), members) in groups {
        let index = invocations.len();
        let tuning = tuning_intent(&profile, members[0].settings);
        let mut packages: Vec<String> = members.iter().map(|s| s.binary.package.clone()).collect();
        packages.dedup();
        let names = |kind: TargetKind| {
            let mut names: Vec<String> = members
                .iter()
                .filter(|s| s.binary.target_kind == kind)
                .map(|s| s.binary.name.clone())
                .collect();
            names.sort();
            names.dedup();
            names
        };
        let (bins, examples) = (names(TargetKind::Bin), names(TargetKind::Example));
        for s in &members {
            for target in &targets {
                let kind = match s.settings.extension.value {
                    Some(true) => Kind::Extension,
                    Some(false) => Kind::Function,
                    None => s.binary.detected.unwrap_or(Kind::Function),
                };
                let arch_dir = arch_dirs.get(&target.triple()).map(String::as_str);
                let flat = kind == Kind::Function && flatten == Some(s.binary.name.as_str());
                let mut binary = target_dir.join(target.triple()).join(profile.dir_name());
                if s.binary.target_kind == TargetKind::Example {
                    binary.push("examples");
                }
                artifacts.push(Artifact {
                    name: s.binary.name.clone(),
                    package: s.binary.package.clone(),
                    package_id: s.binary.package_id.clone(),
                    kind,
                    target_kind: s.binary.target_kind,
                    internal: kind == Kind::Extension && s.settings.internal.value,
                    target: target.clone(),
                    profile: profile.clone(),
                    invocation: index,
                    binary: binary.join(&s.binary.name),
                    outputs: s
                        .settings
                        .output_format
                        .value
                        .iter()
                        .map(|&format| Output {
                            format,
                            path: output_path(kind, &s.binary.name, format, arch_dir, flat),
                        })
                        .collect(),
                    include: s.settings.include.value.clone(),
                    runtime: s.settings.runtime.value,
                    smoke: s.settings.smoke.value.then(|| SmokeSpec {
                        event: s.settings.smoke_event.value.clone(),
                        event_inside: s
                            .settings
                            .smoke_event
                            .source
                            .is_table()
                            .then(|| workspace_root.to_path_buf()),
                        expect: s.settings.smoke_expect.value,
                        http: s.binary.http,
                    }),
                });
            }
        }
        invocations.push(Invocation {
            compiler,
            profile,
            targets,
            packages,
            bins,
            examples,
            subcommand,
            extra_args,
            tuning,
        });
    }
    artifacts.sort_by(|a, b| a.outputs[0].path.cmp(&b.outputs[0].path));
    let mut seen = BTreeMap::new();
    for artifact in &artifacts {
        for output in &artifact.outputs {
            if let Some(other) = seen.insert(output.path.clone(), &artifact.package) {
                return Err(Error::usage(format!(
                    "two binaries would be written to {}: one from package {other} and one from package {}; select one with --package or --bin",
                    output.path, artifact.package
                )));
            }
        }
    }
    Ok(Plan {
        manifest_path: manifest_path.to_path_buf(),
        workspace_root: workspace_root.to_path_buf(),
        target_dir: target_dir.to_path_buf(),
        lambda_dir: lambda_dir.to_path_buf(),
        cargo,
        invocations,
        artifacts,
    })
}

impl Plan {
    /// The part of this plan that builds `binaries` (one shard of the selection): their artifacts,
    /// and each invocation with only their `--bin`s but still every `-p` package it had. cargo
    /// unifies features over the `-p` packages of an invocation (`--bin` only filters targets),
    /// so keeping the list builds each binary with the features, and so the bytes, of the
    /// unsharded run. Invocations left with no binary are dropped.
    pub fn only(mut self, binaries: &[Binary]) -> Plan {
        let wanted = |a: &Artifact| {
            binaries
                .iter()
                .any(|b| b.package_id == a.package_id && b.name == a.name && b.target_kind == a.target_kind)
        };
        self.artifacts.retain(wanted);
        let mut invocations = Vec::new();
        for (index, mut invocation) in std::mem::take(&mut self.invocations).into_iter().enumerate() {
            let (mut bins, mut examples) = (Vec::new(), Vec::new());
            for artifact in self.artifacts.iter_mut().filter(|a| a.invocation == index) {
                artifact.invocation = invocations.len();
                match artifact.target_kind {
                    TargetKind::Bin => bins.push(artifact.name.clone()),
                    TargetKind::Example => examples.push(artifact.name.clone()),
                }
            }
            if bins.is_empty() && examples.is_empty() {
                continue;
            }
            for names in [&mut bins, &mut examples] {
                names.sort();
                names.dedup();
            }
            invocation.bins = bins;
            invocation.examples = examples;
            invocations.push(invocation);
        }
        self.invocations = invocations;
        self
    }
}

/// Whether an invocation's profile gets the Lambda release tuning, and why; the details come
/// later from the workspace and cargo config.
fn tuning_intent(profile: &Profile, settings: &PackageSettings) -> Tuning {
    if profile.tuned {
        Tuning {
            applied: true,
            why: format!("release profile (from {})", settings.profile.source),
            ..Tuning::default()
        }
    } else if profile.name == "release" {
        Tuning::off(format!(
            "off: disable-optimizations (from {})",
            settings.disable_optimizations.source
        ))
    } else {
        Tuning::off(format!(
            "off: profile {} (from {}) is not release, and the tuning is for release builds",
            profile.name, settings.profile.source
        ))
    }
}

/// A glibc suffix is a cargo-zigbuild feature; the other compilers would ignore it silently.
fn check_compiler_fits(s: &Selected<'_>, compiler: CompilerKind) -> Result<()> {
    if compiler == CompilerKind::CargoZigbuild {
        return Ok(());
    }
    match s
        .settings
        .target
        .value
        .iter()
        .find(|t| matches!(t.libc, Libc::Gnu(Some(_))))
    {
        Some(target) => Err(Error::usage(format!(
            "target {target} (from {}) pins a glibc version, which only cargo-zigbuild can do, but the compiler is {} (from {}); accepted: drop the suffix or use --compiler cargo-zigbuild",
            s.settings.target.source,
            compiler.as_str(),
            s.settings.compiler.source
        ))),
        None => Ok(()),
    }
}

/// With one target the layout is cargo-lambda's; with several each target gets a folder named
/// after its Lambda architecture, or its triple when two targets share an architecture. Keyed by
/// triple: a glibc suffix (the user's or the runtime's) does not change where artifacts go.
fn arch_dirs(triples: &BTreeSet<(Arch, String)>) -> BTreeMap<String, String> {
    if triples.len() < 2 {
        return BTreeMap::new();
    }
    triples
        .iter()
        .map(|(arch, triple)| {
            let shared = triples.iter().filter(|(other, _)| other == arch).count() > 1;
            let dir = if shared {
                triple.clone()
            } else {
                arch.lambda_name().to_owned()
            };
            (triple.clone(), dir)
        })
        .collect()
}

/// `--flatten NAME` must name a binary of the selection (cargo-lambda ignores a name it does not
/// build, which would leave a CDK asset folder empty without a word). Naming an extension is
/// accepted and changes nothing, as in cargo-lambda: extensions always go under `extensions/`.
fn check_flatten(selected: &[Selected<'_>], flatten: Option<&str>) -> Result<()> {
    let Some(name) = flatten else { return Ok(()) };
    if selected.iter().any(|s| s.binary.name == name) {
        return Ok(());
    }
    let mut known: Vec<&str> = selected.iter().map(|s| s.binary.name.as_str()).collect();
    known.dedup();
    Err(Error::usage(format!(
        "--flatten {name:?} names no binary this run builds; accepted: {}",
        known.join(", ")
    )))
}

/// The artifact's path relative to the lambda dir. A flattened function (`--flatten`) has its
/// `bootstrap[.zip]` directly in the lambda dir (or its arch folder), as cargo-lambda writes it.
pub fn output_path(kind: Kind, name: &str, format: OutputFormat, arch_dir: Option<&str>, flat: bool) -> String {
    let file = match (kind, format) {
        (Kind::Function, OutputFormat::Binary) if flat => "bootstrap".to_owned(),
        (Kind::Function, OutputFormat::Zip) if flat => "bootstrap.zip".to_owned(),
        (Kind::Function, OutputFormat::Binary) => format!("{name}/bootstrap"),
        (Kind::Function, OutputFormat::Zip) => format!("{name}/bootstrap.zip"),
        (Kind::Extension, OutputFormat::Binary) => format!("extensions/{name}"),
        (Kind::Extension, OutputFormat::Zip) => format!("extensions/{name}.zip"),
    };
    match arch_dir {
        Some(dir) => format!("{dir}/{file}"),
        None => file,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Sourced;

    fn binary(package: &str, name: &str, detected: Option<Kind>) -> Binary {
        Binary {
            package: package.into(),
            package_id: format!("{package} 0.1.0"),
            name: name.into(),
            target_kind: TargetKind::Bin,
            detected,
            http: false,
            reason: String::new(),
            package_dir: PathBuf::from(package),
        }
    }

    fn settings(targets: Vec<Target>, formats: Vec<OutputFormat>) -> PackageSettings {
        PackageSettings {
            target: Sourced::default_value(targets),
            profile: Sourced::default_value(Profile::dev()),
            disable_optimizations: Sourced::default_value(false),
            output_format: Sourced::default_value(formats),
            extension: Sourced::default_value(None),
            compiler: Sourced::default_value(CompilerKind::CargoZigbuild),
            include: Sourced::default_value(vec![]),
            runtime: Sourced::default_value(Runtime::Al2023),
            internal: Sourced::default_value(false),
            compiler_subcommand: Sourced::default_value(vec![]),
            compiler_extra_args: Sourced::default_value(vec![]),
            smoke: Sourced::default_value(false),
            smoke_event: Sourced::default_value(None),
            smoke_expect: Sourced::default_value(SmokeExpect::Any),
        }
    }

    fn plan_for(selected: &[Selected<'_>]) -> Result<Plan> {
        plan(
            selected,
            Path::new("Cargo.toml"),
            Path::new("."),
            Path::new("/t"),
            Path::new("/t/lambda"),
            CargoFlags::default(),
            None,
        )
    }

    fn plan_one(binary: &Binary, settings: &PackageSettings) -> Plan {
        plan_for(&[Selected { binary, settings }]).unwrap()
    }

    fn paths(plan: &Plan) -> Vec<&str> {
        plan.artifacts
            .iter()
            .flat_map(|a| a.outputs.iter().map(|o| o.path.as_str()))
            .collect()
    }

    #[test]
    fn one_target_uses_cargo_lambdas_layout_and_one_invocation() {
        let (f, e) = (
            binary("hello", "hello", Some(Kind::Function)),
            binary("ext", "ext", Some(Kind::Extension)),
        );
        let s = settings(vec![Target::x86_64()], vec![OutputFormat::Binary, OutputFormat::Zip]);
        let selected = [
            Selected {
                binary: &f,
                settings: &s,
            },
            Selected {
                binary: &e,
                settings: &s,
            },
        ];
        let plan = plan_for(&selected).unwrap();
        assert_eq!(
            paths(&plan),
            [
                "extensions/ext",
                "extensions/ext.zip",
                "hello/bootstrap",
                "hello/bootstrap.zip"
            ]
        );
        assert_eq!(plan.invocations.len(), 1);
        assert_eq!(plan.invocations[0].packages, ["hello", "ext"]);
        assert_eq!(
            plan.artifacts[1].binary,
            Path::new("/t/x86_64-unknown-linux-gnu/debug/hello")
        );
    }

    #[test]
    fn flatten_moves_only_that_function_and_examples_build_from_their_folder() {
        let (f, g, e) = (
            binary("hello", "hello", Some(Kind::Function)),
            binary("hello", "other", Some(Kind::Function)),
            binary("ext", "hello-ext", Some(Kind::Extension)),
        );
        let mut ex = binary("hello", "demo", Some(Kind::Function));
        ex.target_kind = TargetKind::Example;
        let s = settings(vec![Target::x86_64()], vec![OutputFormat::Binary, OutputFormat::Zip]);
        let selected = [&f, &g, &e, &ex].map(|binary| Selected { binary, settings: &s });
        let flat = |flatten| {
            let lambda = Path::new("/t/lambda");
            plan(
                &selected,
                Path::new("Cargo.toml"),
                Path::new("."),
                Path::new("/t"),
                lambda,
                CargoFlags::default(),
                flatten,
            )
        };
        let plan = flat(Some("hello")).unwrap();
        assert_eq!(
            paths(&plan),
            [
                "bootstrap",
                "bootstrap.zip",
                "demo/bootstrap",
                "demo/bootstrap.zip",
                "extensions/hello-ext",
                "extensions/hello-ext.zip",
                "other/bootstrap",
                "other/bootstrap.zip"
            ]
        );
        assert_eq!(plan.invocations[0].bins, ["hello", "hello-ext", "other"]);
        assert_eq!(plan.invocations[0].examples, ["demo"]);
        let demo = plan.artifacts.iter().find(|a| a.name == "demo").unwrap();
        assert_eq!(
            demo.binary,
            Path::new("/t/x86_64-unknown-linux-gnu/debug/examples/demo")
        );
        // With several targets the flattened files go directly in each arch folder.
        let both = settings(vec![Target::x86_64(), Target::arm64()], vec![OutputFormat::Zip]);
        let one = [Selected {
            binary: &f,
            settings: &both,
        }];
        let arch_folders = super::plan(
            &one,
            Path::new("Cargo.toml"),
            Path::new("."),
            Path::new("/t"),
            Path::new("/l"),
            CargoFlags::default(),
            Some("hello"),
        );
        assert_eq!(
            paths(&arch_folders.unwrap()),
            ["arm64/bootstrap.zip", "x86_64/bootstrap.zip"]
        );
        // An extension is never flattened (cargo-lambda keeps it under extensions/); a name
        // nothing builds is a usage error.
        assert_eq!(paths(&flat(Some("hello-ext")).unwrap()), paths(&flat(None).unwrap()));
        let err = flat(Some("nope")).unwrap_err();
        assert!(err.to_string().contains("--flatten \"nope\" names no binary"), "{err}");
    }

    #[test]
    fn several_targets_get_arch_folders_in_one_invocation() {
        let f = binary("hello", "hello", Some(Kind::Function));
        let s = settings(vec![Target::x86_64(), Target::arm64()], vec![OutputFormat::Zip]);
        let plan = plan_one(&f, &s);
        assert_eq!(
            paths(&plan),
            ["arm64/hello/bootstrap.zip", "x86_64/hello/bootstrap.zip"]
        );
        assert_eq!(plan.invocations.len(), 1);
        assert_eq!(plan.invocations[0].targets.len(), 2);
    }

    #[test]
    fn zigbuild_links_gnu_targets_against_the_runtimes_glibc_without_moving_artifacts() {
        let f = binary("hello", "hello", Some(Kind::Function));
        let pinned = Target {
            arch: Arch::Arm64,
            libc: Libc::Gnu(Some("2.17".into())),
        };
        let zig_targets = |runtime| {
            let mut s = settings(vec![Target::x86_64(), pinned.clone()], vec![OutputFormat::Zip]);
            s.runtime = Sourced::default_value(runtime);
            let plan = plan_one(&f, &s);
            assert_eq!(
                paths(&plan),
                ["arm64/hello/bootstrap.zip", "x86_64/hello/bootstrap.zip"]
            );
            assert_eq!(
                plan.artifacts[1].binary,
                Path::new("/t/x86_64-unknown-linux-gnu/debug/hello")
            );
            plan.invocations
                .iter()
                .flat_map(|i| i.targets.iter().map(Target::zig_target))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            zig_targets(Runtime::Al2023),
            ["x86_64-unknown-linux-gnu.2.34", "aarch64-unknown-linux-gnu.2.17"]
        );
        assert_eq!(
            zig_targets(Runtime::Al2),
            ["x86_64-unknown-linux-gnu.2.26", "aarch64-unknown-linux-gnu.2.17"]
        );
    }

    #[test]
    fn per_package_settings_split_invocations_and_keep_their_own_formats() {
        let (a, b) = (binary("a", "a", Some(Kind::Function)), binary("b", "b", None));
        let sa = settings(vec![Target::x86_64()], vec![OutputFormat::Zip]);
        let mut sb = settings(vec![Target::x86_64()], vec![OutputFormat::Binary]);
        sb.profile = Sourced::default_value(Profile {
            name: "release".into(),
            tuned: true,
        });
        sb.extension = Sourced::default_value(Some(true));
        let plan = plan_for(&[
            Selected {
                binary: &a,
                settings: &sa,
            },
            Selected {
                binary: &b,
                settings: &sb,
            },
        ])
        .unwrap();
        assert_eq!(plan.invocations.len(), 2);
        assert_eq!(paths(&plan), ["a/bootstrap.zip", "extensions/b"]);
    }

    #[test]
    fn targets_sharing_an_arch_use_triples_and_cross_splits_per_target() {
        let f = binary("hello", "hello", Some(Kind::Function));
        let musl = Target {
            arch: Arch::X86_64,
            libc: Libc::Musl,
        };
        let mut s = settings(vec![Target::x86_64(), musl, Target::arm64()], vec![OutputFormat::Zip]);
        s.compiler = Sourced::default_value(CompilerKind::Cross);
        let plan = plan_for(&[Selected {
            binary: &f,
            settings: &s,
        }])
        .unwrap();
        assert_eq!(
            paths(&plan),
            [
                "arm64/hello/bootstrap.zip",
                "x86_64-unknown-linux-gnu/hello/bootstrap.zip",
                "x86_64-unknown-linux-musl/hello/bootstrap.zip"
            ]
        );
        assert_eq!(plan.invocations.len(), 3);
    }

    #[test]
    fn a_shard_keeps_every_package_of_its_invocations_but_only_its_bins() {
        let (a, b, c) = (
            binary("a", "a", Some(Kind::Function)),
            binary("b", "b", Some(Kind::Function)),
            binary("c", "c", Some(Kind::Function)),
        );
        let s = settings(vec![Target::x86_64(), Target::arm64()], vec![OutputFormat::Zip]);
        let mut release = s.clone();
        release.profile = Sourced::default_value(Profile {
            name: "release".into(),
            tuned: true,
        });
        let selected = [(&a, &s), (&b, &s), (&c, &release)].map(|(binary, settings)| Selected { binary, settings });
        let whole = plan_for(&selected).unwrap();
        assert_eq!(whole.invocations.len(), 2);

        let shard = whole.clone().only(std::slice::from_ref(&c));
        assert_eq!(shard.invocations.len(), 1, "the invocation of a and b has nothing left");
        assert_eq!(shard.invocations[0], whole.invocations[1]);
        assert_eq!(paths(&shard), ["arm64/c/bootstrap.zip", "x86_64/c/bootstrap.zip"]);
        assert!(shard.artifacts.iter().all(|a| a.invocation == 0));

        let shard = whole.clone().only(std::slice::from_ref(&b));
        assert_eq!(shard.invocations.len(), 1);
        assert_eq!(shard.invocations[0].packages, ["a", "b"]);
        assert_eq!(shard.invocations[0].bins, ["b"]);
        assert_eq!(paths(&shard), ["arm64/b/bootstrap.zip", "x86_64/b/bootstrap.zip"]);

        let everything = whole.clone().only(&[a, b, c]);
        assert_eq!(everything.invocations, whole.invocations);
        assert_eq!(paths(&everything), paths(&whole));
        assert!(whole.only(&[]).invocations.is_empty());
    }

    #[test]
    fn glibc_suffix_needs_zigbuild_and_colliding_outputs_are_refused() {
        let f = binary("hello", "hello", Some(Kind::Function));
        let mut s = settings(
            vec![Target::parse("x86_64-unknown-linux-gnu.2.17").unwrap()],
            vec![OutputFormat::Zip],
        );
        s.compiler = Sourced::default_value(CompilerKind::Cargo);
        let err = plan_for(&[Selected {
            binary: &f,
            settings: &s,
        }])
        .unwrap_err();
        assert!(err.to_string().contains("only cargo-zigbuild"), "{err}");
        let (a, b) = (binary("a", "same", None), binary("b", "same", None));
        let s = settings(vec![Target::x86_64()], vec![OutputFormat::Zip]);
        let err = plan_for(&[
            Selected {
                binary: &a,
                settings: &s,
            },
            Selected {
                binary: &b,
                settings: &s,
            },
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("two binaries would be written to same/bootstrap.zip"),
            "{err}"
        );
    }
}
