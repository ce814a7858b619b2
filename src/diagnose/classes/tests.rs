use super::*;
use crate::diagnose::chain::tests::reqwest_workspace;

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

#[test]
fn reqwest_gets_rustls_first_then_the_vendored_build_never_libssl_dev() {
    let metadata = reqwest_workspace();
    let chain = chain::find(&metadata, &[], "openssl-sys").unwrap();
    let openssl = SYS_CRATES.iter().find(|s| s.name == "openssl-sys");
    let fixes = fixes(Some(&chain), "openssl-sys", openssl, Some(&metadata));
    assert_eq!(fixes.len(), 3, "{fixes:#?}");
    assert!(
        fixes[0]
            .starts_with(r#"`reqwest = { version = "0.12", default-features = false, features = ["rustls-tls"] }`"#),
        "{}",
        fixes[0]
    );
    assert!(fixes[1].starts_with(r#"`native-tls = { version = "0.2", features = ["vendored"] }`"#));
    assert!(
        fixes[2]
            .starts_with(r#"`openssl-sys = { version = "0.9", features = ["vendored"] }` in fn-a's [dependencies]"#)
    );
    assert!(!fixes.iter().any(|f| f.contains("libssl-dev")));
}

#[test]
fn every_known_sys_crate_has_a_bundled_fix_and_every_parent_fix_a_known_sys_crate() {
    for known in SYS_CRATES {
        let fixes = fixes(None, known.name, Some(known), None);
        assert!(fixes[0].contains(&format!("`{}` feature", known.bundled)), "{fixes:?}");
    }
    for fix in PARENT_FIXES {
        assert!(SYS_CRATES.iter().any(|s| s.name == fix.avoids), "{fix:?}");
        assert!(VersionReq::parse(fix.versions).is_ok(), "{fix:?}");
    }
    let generic = fixes(None, "libfoo-sys", None, None);
    assert!(generic[0].contains("a feature of libfoo-sys"), "{generic:?}");
}

#[test]
fn failed_build_scripts_are_split_per_crate() {
    let stderr = lines(
        "   Compiling cc v1.2.0\nerror: failed to run custom build command for `openssl-sys v0.9.104`\n\nCaused by:\n  --- stderr\n  Could not find directory of OpenSSL installation\nerror: failed to run custom build command for `libfoo-sys v1.0.0`\n  pkg-config has not been configured to support cross-compilation.\n",
    );
    let failures = build_script_failures(&stderr);
    let names: Vec<&str> = failures.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["openssl-sys", "libfoo-sys"]);
    assert_eq!(failures[0].1.len(), 5);
    assert!(failures[1].1[1].contains("pkg-config"));
}

#[test]
fn a_linker_message_names_a_library_only_as_a_whole_word() {
    let zig = "error: linking with `/x/zigcc-aarch64.sh` failed: exit status: 1\n  = note: error: unable to find dynamic system library 'sqlite3' using strategy 'paths_first'";
    assert!(names_library(zig, "sqlite3"));
    assert!(names_library("/usr/bin/ld: cannot find -lz: No such file", "z"));
    assert!(!names_library("/usr/bin/ld: cannot find -lzstd", "z"));
    assert!(!names_library(zig, "z"));
}

#[test]
fn compilers_that_are_not_there_are_recognised() {
    assert!(compiler_missing(
        "  error occurred in cc-rs: failed to find tool \"aarch64-linux-gnu-gcc\": No such file or directory (os error 2)"
    ));
    assert!(compiler_missing("error: linker `aarch64-linux-gnu-gcc` not found"));
    assert!(!compiler_missing("Could not find directory of OpenSSL installation"));
}
