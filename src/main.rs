//! The `lambda-build` binary: parse, run, map the error to the contract's exit code. Run as
//! `ar` it is cargo-zigbuild's archiver; run as `cargo-lambda` it serves `cargo lambda build`.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use lambda_build::cargo_lambda::{self, EntryPoint, Request};
use lambda_build::cli::{self, EnvVars, Invocation};
use lambda_build::output;

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    // cargo-zigbuild's `ar` wrapper is a symlink to this binary named `ar`.
    let program = args.next().unwrap_or_default();
    if Path::new(&program)
        .file_stem()
        .is_some_and(|s| s.eq_ignore_ascii_case("ar"))
    {
        let zig = cargo_zigbuild::Zig::Ar {
            args: args.map(|a| a.to_string_lossy().into_owned()).collect(),
        };
        return exit(zig.execute().map_err(lambda_build::Error::Failed));
    }
    if cargo_lambda::invoked_as(&program) {
        return match cargo_lambda::request(args) {
            Err(err) => exit(Err(err)),
            Ok(Request::Version) => exit(output::stdout_line(&cargo_lambda::version_line())),
            Ok(Request::Help) => exit(output::stdout_line(&cargo_lambda::help())),
            Ok(Request::LambdaBuild(argv)) => dispatch(argv, EntryPoint::LambdaBuild),
            Ok(Request::Build(argv)) => dispatch(argv, EntryPoint::CargoLambda),
        };
    }
    dispatch(std::env::args_os().collect(), EntryPoint::LambdaBuild)
}

/// Parses lambda-build's command line and runs what it asks for; `entry` is how the binary was
/// started (through `cargo lambda build`, only a build is accepted).
fn dispatch(argv: Vec<OsString>, entry: EntryPoint) -> ExitCode {
    let env = EnvVars::from_process();
    let invocation = match cli::parse(argv, &env) {
        Ok(invocation) => invocation,
        Err(err) => return clap_exit(&err),
    };
    match invocation {
        Invocation::Build { inputs, verbosity } => {
            lambda_build::interrupt::install();
            init_logging(verbosity, &env);
            let cwd = match std::env::current_dir() {
                Ok(cwd) => cwd,
                Err(err) => return exit(Err(lambda_build::Error::Failed(err.into()))),
            };
            exit(lambda_build::run_as(&inputs, &env, &cwd, entry).map(drop))
        }
        _ if entry == EntryPoint::CargoLambda => exit(Err(lambda_build::Error::usage(
            "cargo lambda build takes no subcommand; accepted: build options only (see cargo lambda build --help)",
        ))),
        Invocation::Zig(zig) => exit(zig.execute().map_err(lambda_build::Error::Failed)),
        Invocation::Merge { dirs, out } => {
            lambda_build::interrupt::install();
            init_logging(0, &env);
            exit(lambda_build::merge::run(&dirs, &out, &env).map(drop))
        }
        Invocation::InstallCargoLambda(request) => {
            init_logging(0, &env);
            exit(cargo_lambda::install(&request, &env).map(|dest| {
                output::line(format!(
                    "installed {}: `cargo lambda build` now runs lambda-build",
                    dest.display()
                ))
            }))
        }
    }
}

/// The contract's exit code for a result, after its error line. A run that could not write to
/// stderr exits 1 whatever happened: it could not report it.
fn exit(result: lambda_build::Result<()>) -> ExitCode {
    let code = match result {
        Ok(()) => 0,
        Err(err) => {
            output::line(format!("error: {err:#}"));
            err.exit_code()
        }
    };
    if output::stderr_failed() {
        return ExitCode::FAILURE;
    }
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// clap's answer: `--help` and `--version` on stdout (exit 0); a usage error as the contract's
/// one line (exit 2), without clap's usage block and tips, pointing at `--help` instead.
fn clap_exit(err: &clap::Error) -> ExitCode {
    let rendered = err.render().to_string();
    if !err.use_stderr() {
        return exit(output::stdout_line(rendered.trim_end()));
    }
    let message = match err.kind() {
        clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => "a subcommand is required".to_owned(),
        // clap's message is its first paragraph: `error: ...` and any indented continuation.
        _ => rendered
            .lines()
            .take_while(|line| !line.trim().is_empty())
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" "),
    };
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    exit(Err(lambda_build::Error::usage(format!("{message}; see --help"))))
}

/// Logging to stderr: `-v`/`-vv`, or the `LAMBDA_BUILD_LOG` filter (an unparsable one is
/// warned about, then the default is used); coloured only on a terminal.
fn init_logging(verbosity: u8, env: &EnvVars) {
    let level = match verbosity {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let default = format!("lambda_build={level},cargo_zigbuild={level}");
    let filter = match env.get("LAMBDA_BUILD_LOG") {
        None => tracing_subscriber::EnvFilter::new(&default),
        Some(text) => tracing_subscriber::EnvFilter::try_new(text).unwrap_or_else(|err| {
            output::line(format!(
                "warning: invalid LAMBDA_BUILD_LOG {text:?} from env LAMBDA_BUILD_LOG ({err}); accepted: a tracing filter such as `debug` or `lambda_build=trace`; using {default}"
            ));
            tracing_subscriber::EnvFilter::new(&default)
        }),
    };
    // A second subscriber cannot be installed; there is only ever this one.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(output::LogWriter)
        .with_ansi(output::stderr_color(env))
        .log_internal_errors(false)
        .with_target(false)
        .try_init();
}
