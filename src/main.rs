//! The `lambda-build` binary: parse, run, map the error to the contract's exit code.

use std::path::Path;
use std::process::ExitCode;

use lambda_build::cli::{self, EnvVars, Invocation};

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
    let env = EnvVars::from_process();
    let invocation = match cli::parse(std::env::args_os(), &env) {
        Ok(invocation) => invocation,
        Err(err) => err.exit(),
    };
    match invocation {
        Invocation::Zig(zig) => exit(zig.execute().map_err(lambda_build::Error::Failed)),
        Invocation::Merge { dirs, out } => {
            init_logging(0);
            exit(lambda_build::merge::run(&dirs, &out, &env).map(drop))
        }
        Invocation::Build { inputs, verbosity } => {
            init_logging(verbosity);
            let cwd = match std::env::current_dir() {
                Ok(cwd) => cwd,
                Err(err) => return exit(Err(lambda_build::Error::Failed(err.into()))),
            };
            exit(lambda_build::run(&inputs, &env, &cwd).map(drop))
        }
    }
}

fn exit(result: lambda_build::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(err.exit_code() as u8)
        }
    }
}

fn init_logging(verbosity: u8) {
    let level = match verbosity {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LAMBDA_BUILD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("lambda_build={level},cargo_zigbuild={level}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
