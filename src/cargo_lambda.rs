//! `cargo lambda build` served by lambda-build: the entry point used when this binary runs under
//! the name `cargo-lambda` (a link or copy made by `lambda-build install-cargo-lambda`), so the
//! tools that run cargo-lambda (AWS SAM's `rust-cargolambda` build method, cargo-lambda-cdk, a
//! team's scripts) build with lambda-build without a change.
//!
//! cargo runs `cargo lambda ARGS` as `cargo-lambda lambda ARGS`. Only `build` is provided: its
//! flags are parsed by the normal command line (so `cargo lambda build ARGS` is exactly
//! `lambda-build ARGS`), and the run differs only where SAM and CDK need cargo-lambda's
//! behaviour (see [`EntryPoint::CargoLambda`]). `--version` answers for the tools that check for
//! cargo-lambda first; every other subcommand is a usage error saying what is provided.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::cli::EnvVars;
use crate::error::{Error, Result};

/// The program name this entry point answers to.
pub const PROGRAM: &str = "cargo-lambda";
/// The cargo-lambda release whose `build` command line this entry point accepts; `--version`
/// reports it, so a tool that checks for a minimum cargo-lambda version accepts this one.
pub const COMPATIBLE_VERSION: &str = "1.9.2";
/// The subcommand of lambda-build that installs the entry point.
pub const INSTALL_SUBCOMMAND: &str = "install-cargo-lambda";

/// How this process was started: as `lambda-build`, or as `cargo-lambda`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EntryPoint {
    /// `lambda-build ...`: records in the lambda dir; a lambda dir the user named must be empty or
    /// lambda-build's.
    #[default]
    LambdaBuild,
    /// `cargo lambda build ...`: the lambda dir holds only what cargo-lambda would put there (SAM
    /// copies `target/lambda/<bin>/bootstrap` and expects one entry per function; CDK ships the
    /// whole `--lambda-dir` as the function's code), so the records go to the cargo target dir
    /// (see [`crate::record::Records`]); and, as cargo-lambda does, files already in a named
    /// lambda dir are replaced (with a warning) instead of refused: SAM and CDK point it at
    /// folders cargo-lambda would overwrite.
    CargoLambda,
}

/// Whether `program` (argv\[0\]) is this entry point: a file named `cargo-lambda`.
pub fn invoked_as(program: &OsStr) -> bool {
    Path::new(program)
        .file_name()
        .is_some_and(|name| name == PROGRAM || name == format!("{PROGRAM}.exe").as_str())
}

/// What `cargo-lambda ARGS` asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// `cargo lambda build ARGS`: lambda-build's command line for the same build (its first
    /// item is the program name clap shows in usage lines).
    Build(Vec<OsString>),
    /// `cargo lambda --version`.
    Version,
    /// `cargo lambda --help`, `cargo lambda help`, or no subcommand (as cargo-lambda does).
    Help,
    /// `cargo-lambda zig ...`: cargo-zigbuild's linker wrapper calling back into this binary
    /// (it runs the current executable, which is this name when the entry point is a copy).
    LambdaBuild(Vec<OsString>),
}

/// cargo-lambda's global options, accepted before the subcommand and passed on to the build:
/// (long name, short name, takes a value).
const GLOBAL_OPTIONS: [(&str, Option<char>, bool); 5] = [
    ("verbose", Some('v'), false),
    ("color", None, true),
    ("global", None, true),
    ("context", Some('x'), true),
    ("admerge", None, false),
];

/// The subcommands cargo-lambda has that this entry point does not provide (and their aliases).
const OTHER_SUBCOMMANDS: [&str; 8] = ["deploy", "watch", "start", "init", "invoke", "new", "system", "config"];

/// Reads `cargo-lambda`'s arguments (after argv\[0\]): an optional `lambda` (cargo passes it),
/// global options, then the subcommand.
pub fn request(args: impl IntoIterator<Item = OsString>) -> Result<Request> {
    let mut args = args.into_iter().peekable();
    if args.peek().is_some_and(|a| a == "zig") {
        return Ok(Request::LambdaBuild(
            std::iter::once(OsString::from(PROGRAM)).chain(args).collect(),
        ));
    }
    if args.peek().is_some_and(|a| a == "lambda") {
        args.next();
    }
    let mut globals: Vec<OsString> = Vec::new();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        match text.as_str() {
            "-V" | "--version" => return Ok(Request::Version),
            "-h" | "--help" | "help" => return Ok(Request::Help),
            "build" => {
                let mut argv = vec![OsString::from("cargo lambda build")];
                argv.extend(globals);
                argv.extend(args);
                return Ok(Request::Build(argv));
            }
            _ if text.starts_with('-') => {
                let takes_value = global_option(&text)?;
                globals.push(arg);
                if takes_value {
                    let value = args.next().ok_or_else(|| {
                        Error::usage(format!(
                            "cargo lambda option {text} needs a value; see cargo lambda --help"
                        ))
                    })?;
                    globals.push(value);
                }
            }
            _ => return Err(unsupported(&text)),
        }
    }
    Ok(Request::Help)
}

/// Checks a global option given before the subcommand; `true` when its value is the next
/// argument (`--color never`, `-x ctx`), `false` when it has none or carries it (`--color=never`,
/// `-xctx`, `-vv`).
fn global_option(text: &str) -> Result<bool> {
    let known = GLOBAL_OPTIONS.iter().find_map(|&(long, short, value)| {
        if let Some(rest) = text.strip_prefix("--").filter(|r| r.split('=').next() == Some(long)) {
            return Some(value && !rest.contains('='));
        }
        let short = short?;
        let rest = text.strip_prefix('-').filter(|r| !r.starts_with('-'))?;
        match value {
            true => rest.starts_with(short).then_some(rest.len() == 1),
            false => (!rest.is_empty() && rest.chars().all(|c| c == short)).then_some(false),
        }
    });
    known.ok_or_else(|| {
        Error::usage(format!(
            "unexpected cargo lambda option {text} before the subcommand; accepted there: -v/--verbose, --color WHEN, --global FILE, -x/--context NAME, --admerge, -V/--version, -h/--help (build options go after `build`)"
        ))
    })
}

/// The usage error for any subcommand but `build`.
fn unsupported(subcommand: &str) -> Error {
    let what = match OTHER_SUBCOMMANDS.contains(&subcommand) {
        true => format!("cargo lambda {subcommand} is not provided"),
        false => format!("unknown cargo lambda subcommand {subcommand:?}"),
    };
    Error::usage(format!(
        "{what}: this cargo-lambda is lambda-build's entry point, which provides only `cargo lambda build` (and --version); accepted: build (install cargo-lambda itself for deploy, watch, invoke, new, init and system)"
    ))
}

/// The `--version` line: the cargo-lambda release whose command line is accepted, and the
/// lambda-build that serves it. cargo-lambda-cdk only checks that the command succeeds; the
/// version first, as cargo-lambda prints it, for anything that reads it.
pub fn version_line() -> String {
    format!(
        "{PROGRAM} {COMPATIBLE_VERSION} (lambda-build {} entry point; only `build` is provided)",
        env!("CARGO_PKG_VERSION")
    )
}

/// The `--help` text.
pub fn help() -> String {
    format!(
        "{}

Usage: cargo lambda [OPTIONS] build [BUILD OPTIONS]

Commands:
  build  Build Lambda functions and extensions with lambda-build, taking cargo-lambda {COMPATIBLE_VERSION}'s
         build options (see `cargo lambda build --help`). Artifacts go where cargo-lambda puts them;
         SHA256SUMS and manifest.json go to <target dir>/lambda-build/records/.

Other cargo-lambda commands (deploy, watch, invoke, new, init, system) are not provided:
install cargo-lambda itself for them.

Options (before `build`, passed on to it):
  -v, --verbose...         More logging: -v debug, -vv trace
      --color <WHEN>       Coloring: auto, always, never
      --global <GLOBAL>    Path to the global configuration file
  -x, --context <CONTEXT>  Context to use for the configuration file
      --admerge            Admerge mode: merge arrays instead of overriding them
  -V, --version            Print version information
  -h, --help               Print help",
        version_line()
    )
}

/// `lambda-build install-cargo-lambda`: its clap command (a subcommand of lambda-build's).
pub fn install_command() -> Command {
    Command::new(INSTALL_SUBCOMMAND)
        .about("Install the cargo-lambda entry point: `cargo-lambda` linked to this binary, so `cargo lambda build` (and AWS SAM, cargo-lambda-cdk) build with lambda-build")
        .arg(
            Arg::new("dir")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Folder to put `cargo-lambda` in; it must be on PATH (or be $CARGO_HOME/bin) for cargo to find it [default: the folder of this binary]"),
        )
        .arg(
            Arg::new("force")
                .long("force")
                .action(ArgAction::SetTrue)
                .help("Replace a `cargo-lambda` there that is not this lambda-build (the real cargo-lambda)"),
        )
        .arg(
            Arg::new("copy")
                .long("copy")
                .action(ArgAction::SetTrue)
                .help("Copy this binary instead of linking to it (done anyway where symlinks cannot be made)"),
        )
}

/// What `install-cargo-lambda` was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Install {
    /// The folder; `None` for the folder of the running binary.
    pub dir: Option<PathBuf>,
    /// Replace a `cargo-lambda` that is not this lambda-build.
    pub force: bool,
    /// Copy instead of a symlink.
    pub copy: bool,
}

impl Install {
    /// From the subcommand's matches.
    pub fn from_matches(matches: &ArgMatches) -> Install {
        Install {
            dir: matches.get_one::<PathBuf>("dir").cloned(),
            force: matches.get_flag("force"),
            copy: matches.get_flag("copy"),
        }
    }
}

/// Installs `DIR/cargo-lambda` pointing at (or a copy of) the running binary and returns its
/// path. Idempotent: an entry point of this binary already there is left as it is. Anything
/// else named `cargo-lambda` there (normally the real cargo-lambda) is refused unless `force`,
/// so installing never silently takes a team's cargo-lambda away. The new file is made under a
/// temporary name and renamed into place, so a failure leaves the old one.
pub fn install(request: &Install, env: &EnvVars) -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .context("finding the running lambda-build binary")
        .map_err(Error::Failed)?;
    let (dir, source) = match &request.dir {
        Some(dir) => (dir.clone(), "argument DIR"),
        None => (
            exe.parent().map(Path::to_path_buf).unwrap_or_default(),
            "the folder of the running binary",
        ),
    };
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "install folder {} (from {source}) is not a folder; accepted: an existing folder on PATH",
            dir.display()
        )));
    }
    let dest = dir.join(PROGRAM);
    match std::fs::symlink_metadata(&dest) {
        Err(_) => {}
        Ok(_) if is_this_binary(&dest, &exe) => return Ok(dest),
        Ok(_) if request.force => {}
        Ok(_) => {
            return Err(Error::usage(format!(
                "{} already exists and is not this lambda-build (likely the real cargo-lambda); accepted: --force to replace it, or another DIR (from {source})",
                dest.display()
            )));
        }
    }
    place(&exe, &dir, &dest, request.copy)
        .with_context(|| format!("installing {}", dest.display()))
        .map_err(Error::Failed)?;
    match cargo_finds(env) {
        None => crate::output::line(format!(
            "warning: {} is not on PATH nor $CARGO_HOME/bin, so `cargo lambda` will not find {PROGRAM} there until it is",
            dir.display()
        )),
        Some(first) if !is_this_binary(&first, &exe) => crate::output::line(format!(
            "warning: `cargo lambda` runs {} first (cargo looks in $CARGO_HOME/bin, then PATH), which is not this lambda-build; install into that folder with --force, or remove it",
            first.display()
        )),
        Some(_) => {}
    }
    Ok(dest)
}

/// Whether `path` already runs `exe`: a link resolving to it, or a byte-identical copy.
fn is_this_binary(path: &Path, exe: &Path) -> bool {
    if path.canonicalize().is_ok_and(|p| p == exe) {
        return true;
    }
    let same_size = match (std::fs::metadata(path), std::fs::metadata(exe)) {
        (Ok(a), Ok(b)) => a.is_file() && a.len() == b.len(),
        _ => false,
    };
    same_size && std::fs::read(path).ok() == std::fs::read(exe).ok()
}

/// A symlink to `exe` (or a copy) under a temporary name in `dir`, renamed to `dest`.
fn place(exe: &Path, dir: &Path, dest: &Path, copy: bool) -> anyhow::Result<()> {
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{PROGRAM}."))
        .tempfile_in(dir)?
        .into_temp_path();
    std::fs::remove_file(&temp)?;
    let linked = !copy && std::os::unix::fs::symlink(exe, &temp).is_ok();
    if !linked {
        std::fs::copy(exe, &temp)?;
    }
    temp.persist(dest)?;
    Ok(())
}

/// The `cargo-lambda` that `cargo lambda` runs: the first in `$CARGO_HOME/bin` (cargo, through
/// rustup's proxy too, looks there before `PATH`), then in each `PATH` folder.
fn cargo_finds(env: &EnvVars) -> Option<PathBuf> {
    let cargo_bin = env
        .get("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".cargo")))
        .map(|home| home.join("bin"));
    let path_dirs: Vec<PathBuf> = env
        .get("PATH")
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    cargo_bin
        .into_iter()
        .chain(path_dirs)
        .map(|dir| dir.join(PROGRAM))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(args: &[&str]) -> Result<Request> {
        request(args.iter().map(OsString::from))
    }

    fn build(args: &[&str]) -> Vec<String> {
        match req(args).unwrap() {
            Request::Build(argv) => argv.into_iter().map(|a| a.into_string().unwrap()).collect(),
            other => panic!("not a build: {other:?}"),
        }
    }

    #[test]
    fn the_name_decides() {
        assert!(invoked_as(OsStr::new("/home/me/.cargo/bin/cargo-lambda")));
        assert!(invoked_as(OsStr::new("cargo-lambda")));
        assert!(!invoked_as(OsStr::new("/usr/bin/lambda-build")));
        assert!(!invoked_as(OsStr::new("cargo-lambda-cdk")));
    }

    #[test]
    fn build_arguments_pass_through_after_the_globals() {
        assert_eq!(
            build(&["lambda", "build", "--release", "--bin", "hello"]),
            ["cargo lambda build", "--release", "--bin", "hello"]
        );
        assert_eq!(
            build(&[
                "lambda",
                "-vv",
                "--color",
                "never",
                "-x",
                "ci",
                "--admerge",
                "--global=g.toml",
                "build",
                "-r"
            ]),
            [
                "cargo lambda build",
                "-vv",
                "--color",
                "never",
                "-x",
                "ci",
                "--admerge",
                "--global=g.toml",
                "-r"
            ]
        );
        assert_eq!(build(&["build", "--arm64"]), ["cargo lambda build", "--arm64"]);
        assert_eq!(build(&["lambda", "-xci", "build"]), ["cargo lambda build", "-xci"]);
    }

    #[test]
    fn version_help_and_zig_callbacks() {
        assert_eq!(req(&["lambda", "--version"]).unwrap(), Request::Version);
        assert_eq!(req(&["lambda", "-v", "-V"]).unwrap(), Request::Version);
        assert_eq!(req(&["--version"]).unwrap(), Request::Version);
        assert_eq!(req(&["lambda"]).unwrap(), Request::Help);
        assert_eq!(req(&["lambda", "help"]).unwrap(), Request::Help);
        assert!(matches!(req(&["zig", "cc", "--", "-target"]).unwrap(), Request::LambdaBuild(a) if a[1] == "zig"));
        assert!(version_line().starts_with("cargo-lambda 1.9.2 "));
    }

    #[test]
    fn other_subcommands_and_options_are_usage_errors() {
        for (args, says) in [
            (&["lambda", "deploy"][..], "cargo lambda deploy is not provided"),
            (
                &["lambda", "watch", "--only-lambda-apis"][..],
                "provides only `cargo lambda build`",
            ),
            (&["lambda", "frob"][..], "unknown cargo lambda subcommand \"frob\""),
            (
                &["lambda", "--release", "build"][..],
                "unexpected cargo lambda option --release",
            ),
            (&["lambda", "--color"][..], "--color needs a value"),
        ] {
            let err = req(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(says), "{args:?}: {err}");
        }
    }
}
