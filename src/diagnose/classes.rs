//! The failure classes, as data: which `*-sys` crates fail for want of a system library, the
//! words their build scripts and the linker use when they do, and the fixes that work for
//! Lambda (a pure-Rust choice the parent crate offers, else the sys crate's own bundled
//! build). Adding a crate is adding a row.

use cargo_metadata::Metadata;
use cargo_metadata::semver::{Version, VersionReq};

use super::chain::{self, Chain};
use super::{Diagnosis, Facts};

/// A `*-sys` crate that links a C library it looks for on the system.
#[derive(Debug)]
pub struct SysCrate {
    /// The crate.
    pub name: &'static str,
    /// The library, as people call it.
    pub library: &'static str,
    /// Its name for the linker (`-lsqlite3`).
    pub links: &'static str,
    /// What its build script prints when it finds no library (besides [`NOT_FOUND`]).
    pub not_found: &'static [&'static str],
    /// Its feature that builds the library from bundled source for the target.
    pub bundled: &'static str,
}

/// The sys crates known by name.
pub const SYS_CRATES: &[SysCrate] = &[
    SysCrate {
        name: "openssl-sys",
        library: "OpenSSL",
        links: "ssl",
        not_found: &[
            "Could not find directory of OpenSSL installation",
            "Could not find openssl",
        ],
        bundled: "vendored",
    },
    SysCrate {
        name: "libsqlite3-sys",
        library: "SQLite",
        links: "sqlite3",
        not_found: &[],
        bundled: "bundled",
    },
    SysCrate {
        name: "libz-sys",
        library: "zlib",
        links: "z",
        not_found: &[],
        bundled: "static",
    },
    SysCrate {
        name: "pq-sys",
        library: "libpq (PostgreSQL)",
        links: "pq",
        not_found: &["pg_config", "PQ_LIB_DIR"],
        bundled: "bundled",
    },
    SysCrate {
        name: "curl-sys",
        library: "libcurl",
        links: "curl",
        not_found: &[],
        bundled: "static-curl",
    },
];

/// What any build script using `pkg-config` (or `system-deps`) prints when it finds no
/// library for the target.
pub const NOT_FOUND: &[&str] = &[
    "pkg-config has not been configured to support cross-compilation",
    "was not found in the pkg-config search path",
    "required by crate",
    "Could not run `PKG_CONFIG_ALLOW_CROSS",
];

/// A fix a crate on the chain offers: a pure-Rust choice, or a feature that builds the C
/// library for the target. `{version}` is replaced by the resolved version (`major.minor`).
#[derive(Debug)]
pub struct ParentFix {
    /// The crate.
    pub parent: &'static str,
    /// The versions the fix is right for.
    pub versions: &'static str,
    /// The sys crate it avoids.
    pub avoids: &'static str,
    /// The fix.
    pub fix: &'static str,
}

/// The fixes crates on a chain offer, by crate.
pub const PARENT_FIXES: &[ParentFix] = &[
    ParentFix {
        parent: "reqwest",
        versions: "<0.13",
        avoids: "openssl-sys",
        fix: r#"`reqwest = { version = "{version}", default-features = false, features = ["rustls-tls"] }`: pure-Rust TLS (rustls), no OpenSSL; add back the other default features you use (`charset`, `http2`, `macos-system-configuration`)"#,
    },
    ParentFix {
        parent: "reqwest",
        versions: ">=0.13",
        avoids: "openssl-sys",
        fix: "drop reqwest's `native-tls` feature: its default TLS (rustls) is pure Rust, no OpenSSL",
    },
    ParentFix {
        parent: "ureq",
        versions: "*",
        avoids: "openssl-sys",
        fix: "drop ureq's `native-tls` feature and use its `rustls` feature: pure-Rust TLS, no OpenSSL",
    },
    ParentFix {
        parent: "sqlx",
        versions: "*",
        avoids: "openssl-sys",
        fix: "use sqlx's rustls TLS feature (`tls-rustls`, or `runtime-tokio-rustls` before 0.7) instead of `tls-native-tls`",
    },
    ParentFix {
        parent: "hyper-tls",
        versions: "*",
        avoids: "openssl-sys",
        fix: "use `hyper-rustls` instead of `hyper-tls`: pure-Rust TLS, no OpenSSL",
    },
    ParentFix {
        parent: "tokio-native-tls",
        versions: "*",
        avoids: "openssl-sys",
        fix: "use `tokio-rustls` instead of `tokio-native-tls`: pure-Rust TLS, no OpenSSL",
    },
    ParentFix {
        parent: "native-tls",
        versions: "*",
        avoids: "openssl-sys",
        fix: r#"`native-tls = { version = "{version}", features = ["vendored"] }`: builds OpenSSL from source for the target"#,
    },
    ParentFix {
        parent: "openssl",
        versions: "*",
        avoids: "openssl-sys",
        fix: r#"`openssl = { version = "{version}", features = ["vendored"] }`: builds OpenSSL from source for the target"#,
    },
    ParentFix {
        parent: "git2",
        versions: "*",
        avoids: "openssl-sys",
        fix: r#"`git2 = { version = "{version}", features = ["vendored-libgit2", "vendored-openssl"] }`: builds libgit2 and OpenSSL for the target"#,
    },
    ParentFix {
        parent: "rusqlite",
        versions: "*",
        avoids: "libsqlite3-sys",
        fix: r#"`rusqlite = { version = "{version}", features = ["bundled"] }`: compiles SQLite into the binary"#,
    },
    ParentFix {
        parent: "flate2",
        versions: "*",
        avoids: "libz-sys",
        fix: "drop flate2's `zlib` feature: its default backend (miniz_oxide) is pure Rust",
    },
    ParentFix {
        parent: "curl",
        versions: "*",
        avoids: "curl-sys",
        fix: r#"`curl = { version = "{version}", features = ["static-curl", "static-ssl"] }`: builds libcurl and OpenSSL for the target"#,
    },
];

/// What a class found, before the resolve graph is read.
#[derive(Debug)]
pub enum Found {
    /// A sys crate found no system library (a known crate, or any crate whose build script
    /// printed pkg-config's cross error).
    SysLibrary {
        /// The crate.
        name: String,
        /// Its row, when it is a known one.
        known: Option<&'static SysCrate>,
        /// The target it was built for.
        target: String,
        /// Whether the linker (not the build script) failed.
        at_link: bool,
    },
    /// No C compiler or linker for the target.
    CToolchain {
        /// The target.
        target: String,
        /// The line that says so.
        evidence: String,
    },
}

/// The sys crates whose library was not found, from failed build scripts and link errors.
pub fn sys_libraries(facts: &Facts) -> Vec<Found> {
    let mut found = Vec::new();
    for (name, block) in build_script_failures(&facts.output.stderr) {
        let known = SYS_CRATES.iter().find(|s| s.name == name);
        let signals = known.map_or(&[][..], |k| k.not_found);
        let missing = block
            .iter()
            .any(|line| NOT_FOUND.iter().chain(signals).any(|s| line.contains(s)));
        if missing && !found_compiler_missing(block) {
            found.push(Found::SysLibrary {
                name: name.to_owned(),
                known,
                target: facts.target(block),
                at_link: false,
            });
        }
    }
    for known in SYS_CRATES {
        let linked = facts
            .output
            .messages
            .iter()
            .any(|m| m.contains("linking with") && names_library(m, known.links));
        let already = found
            .iter()
            .any(|f| matches!(f, Found::SysLibrary { name, .. } if name == known.name));
        if linked && !already {
            found.push(Found::SysLibrary {
                name: known.name.to_owned(),
                known: Some(known),
                target: facts.target(&[]),
                at_link: true,
            });
        }
    }
    found
}

/// A missing C compiler or linker for the target: cc-rs finding no compiler, or the host's
/// linker given objects of another architecture.
pub fn c_toolchain(facts: &Facts) -> Option<Found> {
    let output = facts.output;
    if let Some(line) = output.stderr.iter().find(|l| compiler_missing(l)) {
        return Some(Found::CToolchain {
            target: facts.target(&output.stderr),
            evidence: line.trim().to_owned(),
        });
    }
    let foreign = facts
        .invocation
        .targets
        .iter()
        .any(|t| !t.triple().starts_with(std::env::consts::ARCH));
    let link = output.messages.iter().find(|m| m.contains("linking with"))?;
    let wrong = [
        "Relocations in generic ELF",
        "file in wrong format",
        "incompatible with",
        "not found",
    ];
    let evidence = link.lines().find(|l| wrong.iter().any(|w| l.contains(w)))?;
    (foreign && !facts.zigbuild()).then(|| Found::CToolchain {
        target: facts.target(&[]),
        evidence: evidence.trim().to_owned(),
    })
}

/// Words cc-rs and rustc use for a C compiler or linker that is not there.
fn compiler_missing(line: &str) -> bool {
    (line.contains("failed to find tool") || (line.contains("linker `") && line.contains("` not found")))
        || (line.contains("Is `") && line.contains("` installed?"))
}

fn found_compiler_missing(block: &[String]) -> bool {
    block.iter().any(|l| compiler_missing(l))
}

/// Each failed build script's crate, with its lines (up to the next `error` cargo prints).
pub fn build_script_failures(stderr: &[String]) -> Vec<(&str, &[String])> {
    const MARK: &str = "failed to run custom build command for `";
    let starts: Vec<usize> = (0..stderr.len()).filter(|&i| stderr[i].contains(MARK)).collect();
    starts
        .iter()
        .enumerate()
        .filter_map(|(n, &start)| {
            let line = &stderr[start];
            let rest = &line[line.find(MARK)? + MARK.len()..];
            let name = rest.split([' ', '`']).next()?;
            let end = starts.get(n + 1).copied().unwrap_or(stderr.len());
            Some((name, &stderr[start..end]))
        })
        .collect()
}

/// Whether a linker message names the library `links`: `-lsqlite3`, `'sqlite3'`, `libsqlite3.so`.
pub fn names_library(text: &str, links: &str) -> bool {
    let flag = format!("-l{links}");
    let ends_word = |rest: &str| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    text.match_indices(&flag)
        .any(|(i, _)| ends_word(&text[i + flag.len()..]))
        || text.contains(&format!("'{links}'"))
        || text.contains(&format!("lib{links}.so"))
        || text.contains(&format!("lib{links}.a"))
}

impl Found {
    /// The diagnosis, with the chain and Cargo.toml line when the resolve graph is known.
    pub fn diagnose(&self, facts: &Facts, metadata: Option<&Metadata>) -> Diagnosis {
        match self {
            Found::SysLibrary {
                name,
                known,
                target,
                at_link,
            } => sys_library(facts, metadata, name, *known, target, *at_link),
            Found::CToolchain { target, evidence } => c_toolchain_diagnosis(facts, target, evidence),
        }
    }
}

fn sys_library(
    facts: &Facts,
    metadata: Option<&Metadata>,
    name: &str,
    known: Option<&SysCrate>,
    target: &str,
    at_link: bool,
) -> Diagnosis {
    let library = known.map_or("its C library", |k| k.library);
    let how = match at_link {
        true => "the linker found",
        false => "its build script found",
    };
    let why = format!(
        "{name} needs {library} built for {target}, and {how} none: a cross build needs the library for the target (or none at all), so installing the host's development package cannot help"
    );
    let chain = metadata.and_then(|m| chain::find(m, &facts.invocation.packages, name));
    let mut fixes = fixes(chain.as_ref(), name, known, metadata);
    fixes.dedup();
    Diagnosis {
        class: "sys-library",
        why,
        at: chain.as_ref().and_then(Chain::location),
        chain: chain.as_ref().map(Chain::to_string),
        fixes,
    }
}

/// The fixes for the sys crate `name`, best first: what the crates on its chain offer (the
/// member's own dependency first), then the sys crate's bundled build.
pub fn fixes(chain: Option<&Chain>, name: &str, known: Option<&SysCrate>, metadata: Option<&Metadata>) -> Vec<String> {
    let library = known.map_or("its C library", |k| k.library);
    let mut fixes = Vec::new();
    for link in chain.iter().flat_map(|c| &c.links) {
        for fix in PARENT_FIXES
            .iter()
            .filter(|f| f.parent == link.name && f.avoids == name)
        {
            let fits = VersionReq::parse(fix.versions).is_ok_and(|r| r.matches(&link.version));
            if fits {
                fixes.push(fill(fix.fix, &link.version));
            }
        }
    }
    let member = chain.map_or("the function's", |c| c.member.as_str());
    let version = chain.and_then(|c| c.links.last()).map(|l| l.version.clone());
    match (known, &version) {
        (Some(known), Some(version)) => fixes.push(format!(
            "`{name} = {{ version = \"{}\", features = [\"{}\"] }}` in {member}'s [dependencies]: builds {library} from bundled source for the target (cargo turns the feature on for every user of {name})",
            short(version),
            known.bundled
        )),
        (Some(known), None) => fixes.push(format!(
            "{name}'s `{}` feature: builds {library} from bundled source for the target",
            known.bundled
        )),
        (None, _) => {
            let features = metadata.map(|m| chain::bundling_features(m, name)).unwrap_or_default();
            fixes.push(match features.as_slice() {
                [] => format!("a feature of {name} (or of the crate that uses it) that builds its library from source, or a pure-Rust alternative"),
                some => format!("{name}'s feature {} builds its library from source for the target", some.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(" or ")),
            });
        }
    }
    fixes
}

fn c_toolchain_diagnosis(facts: &Facts, target: &str, evidence: &str) -> Diagnosis {
    let mut fixes = Vec::new();
    if !facts.zigbuild() {
        fixes.push(format!(
            "build with the default compiler, cargo-zigbuild (drop `--compiler {}`, or its setting): it brings Zig's C compiler and linker for every Lambda target",
            facts.invocation.compiler.as_str()
        ));
    }
    fixes.push(format!(
        "install a C cross toolchain for {target} and name it to cargo (`CARGO_TARGET_<TRIPLE>_LINKER`, `CC_<triple>`)"
    ));
    Diagnosis {
        class: "c-toolchain",
        why: format!("no C compiler or linker for {target} ({evidence})"),
        chain: None,
        fixes,
        at: None,
    }
}

/// A fix's text with the crate's version in it.
fn fill(fix: &str, version: &Version) -> String {
    fix.replace("{version}", &short(version))
}

/// `0.12` for 0.12.9, `1` for 1.2.3: the requirement a Cargo.toml would write.
fn short(version: &Version) -> String {
    match version.major {
        0 => format!("0.{}", version.minor),
        major => major.to_string(),
    }
}

#[cfg(test)]
mod tests;
