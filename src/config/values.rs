//! Typed setting values and their parsers. Parsers return what is accepted on failure, so
//! the caller can build a one-line error naming the input and its source.

use std::fmt;

/// A Lambda CPU architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// x86_64 (Lambda's `x86_64`).
    X86_64,
    /// aarch64 (Lambda's `arm64`, Graviton).
    Arm64,
}

impl Arch {
    /// Lambda's name for the architecture, used in the output layout and the manifest.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The Rust name of the architecture, as it starts a target triple.
    pub fn rust_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "aarch64",
        }
    }

    /// The CPU Lambda runs on, for `-C target-cpu` in release builds (as cargo-lambda does).
    pub fn lambda_cpu(self) -> &'static str {
        match self {
            Arch::X86_64 => "haswell",
            Arch::Arm64 => "neoverse-n1",
        }
    }
}

/// The C library a target links against.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Libc {
    /// glibc, optionally pinned to a version (`2.17`) for cargo-zigbuild.
    Gnu(Option<String>),
    /// musl: static binaries.
    Musl,
}

/// A Lambda-compatible Rust target.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    /// The CPU architecture.
    pub arch: Arch,
    /// The C library.
    pub libc: Libc,
}

/// What `--target` accepts, for error messages.
pub const ACCEPTED_TARGETS: &str = "x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu, x86_64-unknown-linux-musl, aarch64-unknown-linux-musl (a -gnu triple may end in a glibc version such as .2.17), or the aliases x86_64, amd64, arm64, aarch64";

impl Target {
    /// The default target: x86_64 with glibc.
    pub const fn x86_64() -> Self {
        Target {
            arch: Arch::X86_64,
            libc: Libc::Gnu(None),
        }
    }

    /// Lambda's arm64 with glibc.
    pub const fn arm64() -> Self {
        Target {
            arch: Arch::Arm64,
            libc: Libc::Gnu(None),
        }
    }

    /// Parses a triple or an alias.
    pub fn parse(text: &str) -> Option<Target> {
        let text = text.trim();
        match text.to_ascii_lowercase().as_str() {
            "x86_64" | "amd64" | "x86-64" => return Some(Target::x86_64()),
            "arm64" | "aarch64" => return Some(Target::arm64()),
            _ => {}
        }
        let (triple, glibc) = match text.split_once('.') {
            Some((triple, version)) => (triple, Some(version)),
            None => (text, None),
        };
        let (arch, env) = triple.split_once("-unknown-linux-")?;
        let arch = match arch {
            "x86_64" => Arch::X86_64,
            "aarch64" => Arch::Arm64,
            _ => return None,
        };
        let libc = match (env, glibc) {
            ("gnu", None) => Libc::Gnu(None),
            ("gnu", Some(version)) if is_glibc_version(version) => Libc::Gnu(Some(version.to_owned())),
            ("musl", None) => Libc::Musl,
            _ => return None,
        };
        Some(Target { arch, libc })
    }

    /// The Rust target triple, without a glibc suffix: the name of cargo's output folder.
    pub fn triple(&self) -> String {
        let env = match self.libc {
            Libc::Gnu(_) => "gnu",
            Libc::Musl => "musl",
        };
        format!("{}-unknown-linux-{env}", self.arch.rust_name())
    }

    /// The target cargo-zigbuild links for on `runtime`: a `-gnu` target without a glibc suffix
    /// gets the runtime's glibc; a suffix the user gave, and musl, stay as they are.
    pub fn for_runtime(&self, runtime: Runtime) -> Target {
        match self.libc {
            Libc::Gnu(None) => Target {
                arch: self.arch,
                libc: Libc::Gnu(Some(runtime.glibc().to_string())),
            },
            _ => self.clone(),
        }
    }

    /// The target as given to cargo-zigbuild: the triple with its glibc suffix, if any.
    pub fn zig_target(&self) -> String {
        match &self.libc {
            Libc::Gnu(Some(version)) => format!("{}.{version}", self.triple()),
            _ => self.triple(),
        }
    }
}

/// cargo-lambda's target when none is given: the host's own triple when it is exactly
/// `x86_64-unknown-linux-gnu` or `aarch64-unknown-linux-gnu` (an arm64 runner builds arm64
/// functions), else x86_64. `host` is rustc's host triple, `None` when rustc could not be asked.
/// Returns the target and, for `--print-config`, why (the source's text).
pub fn default_target(host: Option<&str>) -> (Target, String) {
    match host {
        Some(host @ ("x86_64-unknown-linux-gnu" | "aarch64-unknown-linux-gnu")) => (
            Target::parse(host).unwrap_or_else(Target::x86_64),
            format!("host architecture: {host}"),
        ),
        Some(host) => (
            Target::x86_64(),
            format!("x86_64: the host {host} is not a Linux x86_64 or arm64 glibc host"),
        ),
        None => (Target::x86_64(), "x86_64: rustc did not name its host".to_owned()),
    }
}

fn is_glibc_version(text: &str) -> bool {
    let mut parts = text.split('.');
    let (Some(major), Some(minor)) = (parts.next(), parts.next()) else {
        return false;
    };
    major == "2" && !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()) && parts.next().is_none()
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.zig_target())
    }
}

impl serde::Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An artifact format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    /// The executable itself (`bootstrap`, or the extension's name).
    Binary,
    /// A reproducible zip ready for Lambda.
    Zip,
}

/// What `--output-format` accepts.
pub const ACCEPTED_OUTPUT_FORMATS: &str = "binary, zip, or binary,zip (any case)";

impl OutputFormat {
    /// Parses one format, case-insensitively.
    pub fn parse(text: &str) -> Option<OutputFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "binary" => Some(OutputFormat::Binary),
            "zip" => Some(OutputFormat::Zip),
            _ => None,
        }
    }

    /// The manifest's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Binary => "binary",
            OutputFormat::Zip => "zip",
        }
    }
}

/// The compiler backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum CompilerKind {
    /// cargo-zigbuild, linked in as a library: Zig is the linker, any glibc version.
    #[serde(rename = "cargo-zigbuild")]
    CargoZigbuild,
    /// Plain `cargo build`: the host's linker.
    #[serde(rename = "cargo")]
    Cargo,
    /// `cross build`: a container per target.
    #[serde(rename = "cross")]
    Cross,
}

/// What `--compiler` accepts.
pub const ACCEPTED_COMPILERS: &str = "cargo-zigbuild (or zigbuild), cargo, cross";

impl CompilerKind {
    /// Parses a compiler name, case-insensitively.
    pub fn parse(text: &str) -> Option<CompilerKind> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "cargo-zigbuild" | "zigbuild" => Some(CompilerKind::CargoZigbuild),
            "cargo" => Some(CompilerKind::Cargo),
            "cross" => Some(CompilerKind::Cross),
            _ => None,
        }
    }

    /// The name users write.
    pub fn as_str(self) -> &'static str {
        match self {
            CompilerKind::CargoZigbuild => "cargo-zigbuild",
            CompilerKind::Cargo => "cargo",
            CompilerKind::Cross => "cross",
        }
    }
}

/// The outcome a smoke invocation must have (`smoke_expect`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmokeExpect {
    /// A response or a handled error: the function started and answered.
    Any,
    /// A response (`/invocation/{id}/response`).
    Response,
    /// A handled error (`/invocation/{id}/error`), for functions meant to reject the event.
    Error,
}

/// What `smoke_expect` accepts.
pub const ACCEPTED_SMOKE_EXPECT: &str = "response, error or any";

impl SmokeExpect {
    /// Parses an expected outcome, case-insensitively.
    pub fn parse(text: &str) -> Option<SmokeExpect> {
        match text.trim().to_ascii_lowercase().as_str() {
            "any" => Some(SmokeExpect::Any),
            "response" => Some(SmokeExpect::Response),
            "error" => Some(SmokeExpect::Error),
            _ => None,
        }
    }
}

/// `--s3-keys`: how the object keys of an S3 upload are made (see `upload::s3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum S3Keys {
    /// `PREFIX/<name>/<arch>/<sha256>.zip`: a new key for new bytes (the default).
    Content,
    /// `PREFIX/<name>-<arch>.zip`: one key per artifact, overwritten; pin the version id.
    Stable,
}

/// What `--s3-keys` accepts.
pub const ACCEPTED_S3_KEYS: &str = "content (PREFIX/<name>/<arch>/<sha256>.zip, the default) or stable (PREFIX/<name>-<arch>.zip, for buckets with versioning)";

impl S3Keys {
    /// Parses `content` or `stable`, in any case.
    pub fn parse(text: &str) -> Option<S3Keys> {
        match text.trim().to_ascii_lowercase().as_str() {
            "content" | "content-addressed" => Some(S3Keys::Content),
            "stable" => Some(S3Keys::Stable),
            _ => None,
        }
    }
}

/// Seconds a run waits for the lambda dir's lock when `--lock-timeout` is not set: ten minutes,
/// longer than a packaging step takes, far shorter than a CI runner's own limit.
pub const DEFAULT_LOCK_TIMEOUT: u64 = 600;

/// What `--lock-timeout` accepts.
pub const ACCEPTED_LOCK_TIMEOUT: &str = "seconds, a whole number from 1 to 86400";

/// Parses `--lock-timeout`: whole seconds, at least one, at most a day.
pub fn parse_lock_timeout(text: &str) -> Option<u64> {
    text.trim().parse().ok().filter(|s| (1..=86_400).contains(s))
}

/// Seconds a smoke invocation may take when `--smoke-timeout` is not set.
pub const DEFAULT_SMOKE_TIMEOUT: u64 = 10;

/// What `--smoke-timeout` accepts.
pub const ACCEPTED_SMOKE_TIMEOUT: &str = "seconds, a whole number from 1 to 3600";

/// Parses `--smoke-timeout`: whole seconds, at least one, at most an hour.
pub fn parse_smoke_timeout(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok().filter(|s| (1..=3600).contains(s))
}

/// Seconds one upload may take when `--upload-timeout` is not set: half an hour, room for a
/// few 250 MB artifacts over a slow CI uplink, and far below a CI job's own limit.
pub const DEFAULT_UPLOAD_TIMEOUT: u64 = 1800;

/// What `--upload-timeout` accepts.
pub const ACCEPTED_UPLOAD_TIMEOUT: &str = "seconds, a whole number from 1 to 86400";

/// Parses `--upload-timeout`: whole seconds, at least one, at most a day.
pub fn parse_upload_timeout(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok().filter(|s| (1..=86_400).contains(s))
}

/// A Lambda OS-only runtime: decides the glibc binaries may need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Runtime {
    /// Amazon Linux 2023: glibc 2.34.
    #[serde(rename = "provided.al2023")]
    Al2023,
    /// Amazon Linux 2: glibc 2.26.
    #[serde(rename = "provided.al2")]
    Al2,
}

/// What `--runtime` accepts.
pub const ACCEPTED_RUNTIMES: &str =
    "provided.al2023 (glibc 2.34) or provided.al2 (glibc 2.26); al2023 and al2 for short";

impl Runtime {
    /// Parses a runtime name, case-insensitively.
    pub fn parse(text: &str) -> Option<Runtime> {
        match text.trim().to_ascii_lowercase().as_str() {
            "provided.al2023" | "al2023" => Some(Runtime::Al2023),
            "provided.al2" | "al2" => Some(Runtime::Al2),
            _ => None,
        }
    }

    /// Lambda's identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Al2023 => "provided.al2023",
            Runtime::Al2 => "provided.al2",
        }
    }

    /// The glibc the runtime's image has.
    pub fn glibc(self) -> GlibcVersion {
        match self {
            Runtime::Al2023 => GlibcVersion(2, 34, 0),
            Runtime::Al2 => GlibcVersion(2, 26, 0),
        }
    }
}

/// A glibc version, as in `GLIBC_2.28` or `GLIBC_2.2.5`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlibcVersion(pub u32, pub u32, pub u32);

impl GlibcVersion {
    /// Parses `2.28` or `2.2.5`.
    pub fn parse(text: &str) -> Option<GlibcVersion> {
        let mut parts = text.split('.').map(|p| p.parse::<u32>().ok());
        let major = parts.next()??;
        let minor = parts.next()??;
        let patch = match parts.next() {
            None => 0,
            Some(patch) => patch?,
        };
        parts.next().is_none().then_some(GlibcVersion(major, minor, patch))
    }

    /// The version of a symbol version name such as `GLIBC_2.28`; `None` for other names
    /// (`GLIBC_PRIVATE`, `GCC_3.0`).
    pub fn from_symbol_version(name: &str) -> Option<GlibcVersion> {
        GlibcVersion::parse(name.strip_prefix("GLIBC_")?)
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.2 {
            0 => write!(f, "{}.{}", self.0, self.1),
            patch => write!(f, "{}.{}.{patch}", self.0, self.1),
        }
    }
}

impl serde::Serialize for GlibcVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One slice of a sharded build: shard `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Shard {
    /// Which slice, from 1.
    pub index: u32,
    /// How many slices.
    pub count: u32,
}

/// What `--shard` accepts.
pub const ACCEPTED_SHARDS: &str = "K/N with 1 <= K <= N, such as 1/3";

impl Shard {
    /// Parses `K/N`.
    pub fn parse(text: &str) -> Option<Shard> {
        let (index, count) = text.trim().split_once('/')?;
        let (index, count) = (index.trim().parse().ok()?, count.trim().parse().ok()?);
        (1..=count).contains(&index).then_some(Shard { index, count })
    }

    /// Whether the `position`-th item (0-based, in a stable order) belongs to this shard:
    /// round robin, so shards differ in size by at most one.
    pub fn takes(self, position: usize) -> bool {
        position % self.count as usize == (self.index - 1) as usize
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// cargo's `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Color {
    /// Colour on a terminal.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// What `--color` accepts.
pub const ACCEPTED_COLORS: &str = "auto, always, never";

impl Color {
    /// Parses a `--color` value, case-insensitively.
    pub fn parse(text: &str) -> Option<Color> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Color::Auto),
            "always" => Some(Color::Always),
            "never" => Some(Color::Never),
            _ => None,
        }
    }

    /// cargo's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Color::Auto => "auto",
            Color::Always => "always",
            Color::Never => "never",
        }
    }
}

/// cargo-lambda's `--message-format` values. lambda-build always has cargo report JSON (it
/// learns the built executables from it) and prints the rendered diagnostics itself; each value
/// says how they are rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageFormat {
    /// rustc's full rendering.
    Human,
    /// One line per diagnostic.
    Short,
    /// cargo's JSON: rendered in full here (stdout is kept for `--print-config`).
    Json,
    /// Short rendering.
    JsonDiagnosticShort,
    /// Full rendering with ANSI colours, whatever `--color` says.
    JsonDiagnosticRenderedAnsi,
    /// Full rendering.
    JsonRenderDiagnostics,
}

/// What `--message-format` accepts.
pub const ACCEPTED_MESSAGE_FORMATS: &str =
    "human, short, json, json-diagnostic-short, json-diagnostic-rendered-ansi, json-render-diagnostics";

impl MessageFormat {
    /// Parses one value, case-insensitively.
    pub fn parse(text: &str) -> Option<MessageFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "human" => Some(MessageFormat::Human),
            "short" => Some(MessageFormat::Short),
            "json" => Some(MessageFormat::Json),
            "json-diagnostic-short" => Some(MessageFormat::JsonDiagnosticShort),
            "json-diagnostic-rendered-ansi" => Some(MessageFormat::JsonDiagnosticRenderedAnsi),
            "json-render-diagnostics" => Some(MessageFormat::JsonRenderDiagnostics),
            _ => None,
        }
    }

    /// cargo's JSON message formats that render diagnostics as `formats` ask, with colour when
    /// `ansi`: always JSON, so lambda-build still learns which executables were built.
    pub fn cargo_formats(formats: &[MessageFormat], ansi: bool) -> Vec<String> {
        let short = formats
            .iter()
            .any(|f| matches!(f, MessageFormat::Short | MessageFormat::JsonDiagnosticShort));
        let ansi = ansi || formats.contains(&MessageFormat::JsonDiagnosticRenderedAnsi);
        let modifiers = [
            (short, "json-diagnostic-short"),
            (ansi, "json-diagnostic-rendered-ansi"),
        ];
        let out: Vec<String> = modifiers
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| name.to_string())
            .collect();
        match out.is_empty() {
            true => vec!["json".to_owned()],
            false => out,
        }
    }
}

/// What `--zig-version` accepts.
pub const ACCEPTED_ZIG_VERSIONS: &str =
    "a Zig version such as 0.17.1 (major.minor.patch, optionally with a -dev.N+commit suffix)";

/// Parses a Zig version: `major.minor.patch` with an optional pre-release suffix.
pub fn parse_zig_version(text: &str) -> Option<String> {
    let text = text.trim();
    let (release, suffix) = match text.split_once('-') {
        Some((release, suffix)) => (release, Some(suffix)),
        None => (text, None),
    };
    let parts: Vec<&str> = release.split('.').collect();
    let numeric = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let suffix_ok =
        suffix.is_none_or(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'+'));
    (numeric && suffix_ok).then(|| text.to_owned())
}

/// What a boolean accepts.
pub const ACCEPTED_BOOLEANS: &str = "true, false, 1, 0, yes, no, on, off (any case)";

/// Parses a boolean the way the contract allows.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The cargo profile of a build.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Profile {
    /// The profile name given to cargo (`dev`, `release`, or a custom one).
    pub name: String,
    /// Whether cargo-lambda's Lambda release tuning applies.
    pub tuned: bool,
}

impl Profile {
    /// The debug profile.
    pub fn dev() -> Self {
        Profile {
            name: "dev".into(),
            tuned: false,
        }
    }

    /// The folder cargo writes this profile's output to.
    pub fn dir_name(&self) -> &str {
        match self.name.as_str() {
            "dev" | "test" => "debug",
            "bench" => "release",
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_key_layouts_parse_in_any_case() {
        assert_eq!(S3Keys::parse(" Stable "), Some(S3Keys::Stable));
        assert_eq!(S3Keys::parse("content"), Some(S3Keys::Content));
        assert_eq!(S3Keys::parse("sha"), None);
    }

    #[test]
    fn shards_are_k_of_n_and_split_round_robin() {
        assert_eq!(Shard::parse("2/3"), Some(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "1/0", "1", "a/b", "-1/2"] {
            assert_eq!(Shard::parse(bad), None, "{bad}");
        }
        let shards: Vec<Shard> = (1..=3).map(|index| Shard { index, count: 3 }).collect();
        for position in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.takes(position)).count(), 1);
        }
    }

    #[test]
    fn glibc_versions_compare_numerically() {
        let v = |t: &str| GlibcVersion::from_symbol_version(t).unwrap();
        assert!(v("GLIBC_2.2.5") < v("GLIBC_2.17"));
        assert!(v("GLIBC_2.26") < v("GLIBC_2.28"));
        assert!(v("GLIBC_2.34") > Runtime::Al2.glibc());
        assert_eq!(v("GLIBC_2.34"), Runtime::Al2023.glibc());
        assert_eq!(v("GLIBC_2.2.5").to_string(), "2.2.5");
        assert_eq!(v("GLIBC_2.28").to_string(), "2.28");
        for other in ["GLIBC_PRIVATE", "GCC_3.0", "GLIBC_2", "GLIBC_2.x", "GLIBC_2.1.2.3"] {
            assert_eq!(GlibcVersion::from_symbol_version(other), None, "{other}");
        }
    }

    #[test]
    fn runtimes_parse_with_or_without_provided() {
        assert_eq!(Runtime::parse("provided.al2"), Some(Runtime::Al2));
        assert_eq!(Runtime::parse(" AL2023 "), Some(Runtime::Al2023));
        assert_eq!(Runtime::parse("provided"), None);
        assert_eq!(Runtime::parse("python3.12"), None);
    }

    #[test]
    fn zig_versions_are_release_numbers() {
        for good in ["0.17.1", " 0.13.0 ", "0.18.0-dev.123+abc1234"] {
            assert_eq!(parse_zig_version(good).as_deref(), Some(good.trim()), "{good}");
        }
        for bad in ["", "0.17", "latest", "0.17.1-", "v0.17.1", "0.17.1/../x"] {
            assert_eq!(parse_zig_version(bad), None, "{bad}");
        }
    }

    #[test]
    fn targets_parse_aliases_triples_and_glibc_suffixes() {
        let cases = [
            ("x86_64", Some("x86_64-unknown-linux-gnu")),
            ("AMD64", Some("x86_64-unknown-linux-gnu")),
            ("arm64", Some("aarch64-unknown-linux-gnu")),
            ("aarch64", Some("aarch64-unknown-linux-gnu")),
            ("aarch64-unknown-linux-gnu", Some("aarch64-unknown-linux-gnu")),
            ("x86_64-unknown-linux-musl", Some("x86_64-unknown-linux-musl")),
            ("x86_64-unknown-linux-gnu.2.17", Some("x86_64-unknown-linux-gnu.2.17")),
            (
                " aarch64-unknown-linux-gnu.2.26 ",
                Some("aarch64-unknown-linux-gnu.2.26"),
            ),
            ("x86_64-unknown-linux-musl.2.17", None),
            ("x86_64-unknown-linux-gnu.3.1", None),
            ("x86_64-unknown-linux-gnu.2", None),
            ("x86_64-apple-darwin", None),
            ("armv7-unknown-linux-gnueabihf", None),
            ("mips", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                Target::parse(text).map(|t| t.to_string()).as_deref(),
                expected,
                "{text:?}"
            );
        }
        let t = Target::parse("aarch64-unknown-linux-gnu.2.17").unwrap();
        assert_eq!(t.triple(), "aarch64-unknown-linux-gnu");
        assert_eq!(t.arch.lambda_name(), "arm64");
    }

    #[test]
    fn formats_compilers_and_booleans() {
        assert_eq!(OutputFormat::parse("ZIP"), Some(OutputFormat::Zip));
        assert_eq!(OutputFormat::parse("Binary"), Some(OutputFormat::Binary));
        assert_eq!(OutputFormat::parse("tar"), None);
        assert_eq!(CompilerKind::parse("zigbuild"), Some(CompilerKind::CargoZigbuild));
        assert_eq!(CompilerKind::parse("Cargo_Zigbuild"), Some(CompilerKind::CargoZigbuild));
        assert_eq!(CompilerKind::parse("cross"), Some(CompilerKind::Cross));
        assert_eq!(CompilerKind::parse("gcc"), None);
        for (text, value) in [
            ("TRUE", Some(true)),
            ("on", Some(true)),
            ("1", Some(true)),
            ("No", Some(false)),
            ("off", Some(false)),
            ("0", Some(false)),
            ("maybe", None),
            ("", None),
        ] {
            assert_eq!(parse_bool(text), value, "{text:?}");
        }
    }

    #[test]
    fn the_default_target_is_the_hosts_on_linux_gnu_x86_64_and_arm64_hosts_else_x86_64() {
        let cases = [
            (
                Some("x86_64-unknown-linux-gnu"),
                "x86_64-unknown-linux-gnu",
                "host architecture",
            ),
            (
                Some("aarch64-unknown-linux-gnu"),
                "aarch64-unknown-linux-gnu",
                "host architecture",
            ),
            (
                Some("aarch64-unknown-linux-musl"),
                "x86_64-unknown-linux-gnu",
                "not a Linux",
            ),
            (
                Some("x86_64-unknown-linux-musl"),
                "x86_64-unknown-linux-gnu",
                "not a Linux",
            ),
            (Some("aarch64-apple-darwin"), "x86_64-unknown-linux-gnu", "not a Linux"),
            (
                Some("x86_64-pc-windows-msvc"),
                "x86_64-unknown-linux-gnu",
                "not a Linux",
            ),
            (
                Some("armv7-unknown-linux-gnueabihf"),
                "x86_64-unknown-linux-gnu",
                "not a Linux",
            ),
            (None, "x86_64-unknown-linux-gnu", "did not name"),
        ];
        for (host, expected, why) in cases {
            let (target, reason) = default_target(host);
            assert_eq!(target.to_string(), expected, "{host:?}");
            assert!(reason.contains(why), "{host:?}: {reason}");
        }
    }

    #[test]
    fn message_formats_map_to_json_cargo_renders() {
        let f = |texts: &[&str], ansi| {
            let formats: Vec<_> = texts.iter().map(|t| MessageFormat::parse(t).unwrap()).collect();
            MessageFormat::cargo_formats(&formats, ansi)
        };
        assert_eq!(f(&["human"], false), ["json"]);
        assert_eq!(f(&["human"], true), ["json-diagnostic-rendered-ansi"]);
        assert_eq!(
            f(&["short"], true),
            ["json-diagnostic-short", "json-diagnostic-rendered-ansi"]
        );
        assert_eq!(f(&["short"], false), ["json-diagnostic-short"]);
        assert_eq!(f(&["JSON"], false), ["json"]);
        assert_eq!(
            f(&["json-diagnostic-rendered-ansi"], false),
            ["json-diagnostic-rendered-ansi"]
        );
        assert_eq!(f(&["json-render-diagnostics"], false), ["json"]);
        assert_eq!(MessageFormat::parse("xml"), None);
        assert_eq!(Color::parse(" Never "), Some(Color::Never));
        assert_eq!(Color::parse("sometimes"), None);
    }

    #[test]
    fn profile_dirs() {
        assert_eq!(Profile::dev().dir_name(), "debug");
        assert_eq!(
            Profile {
                name: "release".into(),
                tuned: true
            }
            .dir_name(),
            "release"
        );
        assert_eq!(
            Profile {
                name: "lambda".into(),
                tuned: false
            }
            .dir_name(),
            "lambda"
        );
    }
}
