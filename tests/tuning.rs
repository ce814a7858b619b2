//! cargo-lambda's Lambda release tuning, seen where it matters: in the rustc command lines cargo
//! runs and in the instructions of real release binaries. `examples/` is built for x86_64 and
//! arm64 in one tuned run, then once with `--disable-optimizations`; the x86_64 bootstraps are
//! disassembled for Haswell-only BMI2 instructions, the arm64 ones for inline LSE atomics
//! (Neoverse N1), and the tuned functions answer through the Lambda Runtime API emulator.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

/// BMI2 instructions (exact mnemonics: `pextrw` is SSE2): Haswell has them, the x86-64 baseline Rust targets by default does not.
const BMI2: [&str; 8] = ["shlx", "shrx", "sarx", "rorx", "mulx", "pdep", "pext", "bzhi"];

/// ARMv8.1 LSE atomics (with their `st*` aliases), without ordering and size suffixes: Neoverse
/// N1 has them; the aarch64 baseline reaches them only through the out-of-line `__aarch64_*`
/// helpers of compiler-builtins.
const LSE: [&str; 19] = [
    "ldadd", "ldclr", "ldeor", "ldset", "ldsmax", "ldsmin", "ldumax", "ldumin", "stadd", "stclr", "steor", "stset",
    "stsmax", "stsmin", "stumax", "stumin", "swp", "cas", "casp",
];

/// Whether a mnemonic is one of `family`, also with an LSE ordering (`a`, `al`, `l`) and size
/// (`b`, `h`) suffix: `ldaddal`, `casalh`, `swpb`.
fn is_one_of(mnemonic: &str, family: &[&str]) -> bool {
    let sized = mnemonic.strip_suffix(['b', 'h']).unwrap_or(mnemonic);
    let ordered = ["al", "a", "l"].iter().find_map(|o| sized.strip_suffix(o));
    [Some(mnemonic), Some(sized), ordered]
        .into_iter()
        .flatten()
        .any(|m| family.contains(&m))
}

/// One disassembled instruction: the function it is in (when the binary has symbols) and its
/// mnemonic.
struct Instruction {
    function: String,
    mnemonic: String,
}

fn disassemble(objdump: &str, binary: &Path) -> Vec<Instruction> {
    let out = Command::new(objdump)
        .args(["-d", "--no-show-raw-insn"])
        .arg(binary)
        .output()
        .unwrap_or_else(|e| panic!("{objdump}: {e}"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut function = String::new();
    let mut instructions = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // `0000000000401000 <name>:` opens a function; `  401000:\tmnemonic\toperands` is code.
        if let Some(label) = line.strip_suffix(">:").and_then(|l| l.split_once(" <")) {
            function = label.1.to_owned();
        } else if let Some((_, code)) = line.split_once(":\t") {
            let mnemonic = code.split_whitespace().next().unwrap_or_default().to_owned();
            instructions.push(Instruction {
                function: function.clone(),
                mnemonic,
            });
        }
    }
    assert!(instructions.len() > 1000, "no code found in {}", binary.display());
    instructions
}

fn count<'a>(instructions: impl IntoIterator<Item = &'a Instruction>, family: &[&str]) -> usize {
    instructions
        .into_iter()
        .filter(|i| is_one_of(&i.mnemonic, family))
        .count()
}

/// Builds `examples/` for both arches in one run into `lambda_dir` (release, plus `extra`
/// flags and `env`).
fn build_release(target_dir: &str, lambda_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Option<Run> {
    if !have_tool("an aarch64 Rust standard library", arm64_rustc().is_some())
        || !have_tool("objdump (binutils)", on_path("objdump"))
        || !have_tool(
            "aarch64-linux-gnu-objdump (binutils-aarch64-linux-gnu)",
            on_path("aarch64-linux-gnu-objdump"),
        )
    {
        return None;
    }
    let mut cmd = lambda_build(&examples());
    cmd.env("CARGO_TARGET_DIR", repo().join("target").join(target_dir))
        .env("RUSTC", arm64_rustc().unwrap())
        .args(["--release", "--x86-64", "--arm64", "--output-format", "binary,zip"])
        .args(extra)
        .envs(env.iter().copied())
        .arg("--lambda-dir")
        .arg(lambda_dir);
    Some(run_ok(&mut cmd))
}

fn text_size(binary: &Path) -> u64 {
    use object::{Object, ObjectSection};
    let bytes = std::fs::read(binary).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    file.section_by_name(".text").map_or(0, |s| s.size())
}

fn bootstrap(lambda_dir: &Path, arch: &str, function: &str) -> PathBuf {
    lambda_dir.join(arch).join(function).join("bootstrap")
}

#[test]
fn mnemonic_families_match_suffixes_but_not_lookalikes() {
    assert!(is_one_of("ldaddal", &LSE) && is_one_of("casalh", &LSE) && is_one_of("swpb", &LSE));
    assert!(is_one_of("stsetl", &LSE) && is_one_of("caspal", &LSE) && is_one_of("cas", &LSE));
    assert!(!is_one_of("ldr", &LSE) && !is_one_of("ldaxr", &LSE) && !is_one_of("stlr", &LSE));
    assert!(is_one_of("shlx", &BMI2) && !is_one_of("pextrw", &BMI2) && !is_one_of("shl", &BMI2));
}

#[test]
fn tuned_release_binaries_use_each_lambda_cpu_and_untuned_ones_do_not() {
    let out = tempfile::tempdir().unwrap();
    let (tuned, untuned) = (out.path().join("tuned"), out.path().join("untuned"));
    let Some(run) = build_release("test-examples-release", &tuned, &[], &[]) else {
        return;
    };
    assert_eq!(
        run.stderr.matches("Compiling: ").count(),
        1,
        "one cargo invocation for both targets:\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("Lambda release tuning"), "{}", run.stderr);
    // Symbols kept (cargo's release default strips them when linking with Zig), so each
    // instruction can be placed in its function; the code is the same.
    build_release(
        "test-examples-untuned",
        &untuned,
        &["--disable-optimizations"],
        &[("CARGO_PROFILE_RELEASE_STRIP", "none")],
    )
    .unwrap();

    for function in ["hello", "http-hello"] {
        let x86 = disassemble("objdump", &bootstrap(&tuned, "x86_64", function));
        let x86_plain = disassemble("objdump", &bootstrap(&untuned, "x86_64", function));
        let (bmi2, bmi2_plain) = (count(&x86, &BMI2), count(&x86_plain, &BMI2));
        eprintln!("{function} x86_64: {bmi2} BMI2 instructions tuned, {bmi2_plain} untuned");
        assert!(
            bmi2 >= 50,
            "{function}: only {bmi2} BMI2 instructions with target-cpu=haswell"
        );
        assert_eq!(bmi2_plain, 0, "{function}: BMI2 without the tuning");

        let arm = disassemble("aarch64-linux-gnu-objdump", &bootstrap(&tuned, "arm64", function));
        let arm_plain = disassemble("aarch64-linux-gnu-objdump", &bootstrap(&untuned, "arm64", function));
        let (lse, lse_plain) = (count(&arm, &LSE), count(&arm_plain, &LSE));
        // The untuned binary keeps its symbols: every LSE atomic in it is inside a helper.
        let inline_plain = count(arm_plain.iter().filter(|i| !i.function.starts_with("__aarch64_")), &LSE);
        eprintln!("{function} arm64: {lse} LSE atomics tuned, {lse_plain} untuned ({inline_plain} inline)");
        assert!(
            arm_plain.iter().any(|i| i.function.starts_with("__aarch64_")),
            "the untuned arm64 binary has no symbols to check"
        );
        assert_eq!(inline_plain, 0, "{function}: inline LSE atomics without the tuning");
        assert!(
            lse >= 100 && lse >= 5 * lse_plain,
            "{function}: {lse} LSE atomics with target-cpu=neoverse-n1, {lse_plain} without"
        );

        // Thin LTO, one codegen unit and abort on panic: the tuned code is smaller.
        for arch in ["x86_64", "arm64"] {
            let text = |dir: &Path| text_size(&bootstrap(dir, arch, function));
            eprintln!(
                "{function} {arch}: .text {} bytes tuned, {} untuned",
                text(&tuned),
                text(&untuned)
            );
            assert!(text(&tuned) < text(&untuned), "{function} {arch}");
        }
    }

    // Both formats side by side, all listed in SHA256SUMS.
    assert_eq!(sha256sum_check(&tuned), 12);

    // The tuned functions run: Haswell code on this x86_64 host, Neoverse code under qemu.
    let cargo_lambda = cargo_lambda();
    if !have_tool("cargo-lambda (pip install cargo-lambda)", cargo_lambda.is_some())
        || !have_tool("qemu-aarch64-static", on_path("qemu-aarch64-static"))
    {
        return;
    }
    let host_has_haswell =
        std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|c| c.contains(" bmi2") && c.contains(" avx2"));
    let emulator = Emulator::start(&cargo_lambda.unwrap(), &examples());
    for (arch, machine) in [("x86_64", "x86_64"), ("arm64", "aarch64")] {
        if arch == "x86_64" && !host_has_haswell {
            eprintln!("skipping the x86_64 invocation: this CPU lacks Haswell's BMI2/AVX2");
            continue;
        }
        let mut function = emulator.serve("hello", &bootstrap(&tuned, arch, "hello"), arch == "arm64");
        let answer = emulator.invoke("hello", r#"{"name":"tuned"}"#);
        let _ = function.kill();
        let _ = function.wait();
        assert_eq!(answer["message"], "hello, tuned", "{arch}: {answer}");
        assert_eq!(answer["arch"], machine, "{arch}: {answer}");
    }
}

/// A RUSTC_WRAPPER that logs every rustc command line cargo runs, one per line.
fn logging_wrapper(dir: &Path) -> (PathBuf, PathBuf) {
    let (script, log) = (dir.join("log-rustc.sh"), dir.join("rustc.log"));
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$*\" >> '{}'\nexec \"$@\"\n", log.display()),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&script, permissions).unwrap();
    (script, log)
}

#[test]
fn user_rustflags_reach_each_target_with_its_cpu_and_host_code_gets_neither() {
    if !have_tool("an aarch64 Rust standard library", arm64_rustc().is_some()) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let (wrapper, log) = logging_wrapper(t.path());
    let mut cmd = lambda_build(&fixture("meta"));
    cmd.env("CARGO_TARGET_DIR", t.path().join("target"))
        .env("RUSTC", arm64_rustc().unwrap())
        .env("RUSTC_WRAPPER", &wrapper)
        .env("RUSTFLAGS", "--cfg user_flag")
        .args(["--release", "--x86-64", "--arm64", "--lambda-dir"])
        .arg(t.path().join("lambda"));
    run_ok(&mut cmd);
    let log = std::fs::read_to_string(&log).unwrap();
    let crate_lines = |name: &str| -> Vec<&str> {
        log.lines()
            .filter(|l| l.contains(&format!("--crate-name {name} ")))
            .collect()
    };

    let host = crate_lines("build_script_build");
    assert!(!host.is_empty(), "no build script compiled:\n{log}");
    for line in host {
        assert!(
            !line.contains("target-cpu") && !line.contains("user_flag") && !line.contains("--target"),
            "a host build script got target flags: {line}"
        );
    }
    for (crate_name, expect_lto) in [("one", true), ("two", true), ("lambda_runtime", false)] {
        let lines = crate_lines(crate_name);
        assert_eq!(lines.len(), 2, "{crate_name} once per target:\n{log}");
        for (triple, cpu) in [
            ("x86_64-unknown-linux-gnu", "target-cpu=haswell"),
            ("aarch64-unknown-linux-gnu", "target-cpu=neoverse-n1"),
        ] {
            let line = lines
                .iter()
                .find(|l| l.contains(&format!("--target {triple}")))
                .unwrap_or_else(|| panic!("{crate_name} not built for {triple}:\n{log}"));
            assert!(line.contains("--cfg user_flag"), "RUSTFLAGS lost: {line}");
            assert_eq!(line.matches("--cfg user_flag").count(), 1, "RUSTFLAGS repeated: {line}");
            assert_eq!(line.matches("target-cpu=").count(), 1, "{line}");
            assert!(line.contains(cpu), "{triple} without {cpu}: {line}");
            for setting in ["-C codegen-units=1", "-C panic=abort", "-C strip=symbols"] {
                assert!(line.contains(setting), "{setting} missing: {line}");
            }
            assert_eq!(line.contains("-C lto=thin"), expect_lto, "{line}");
        }
    }
}
