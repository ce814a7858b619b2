//! `--env-file` (and `env_var`): the variables cargo is started with, checked before anything
//! compiles, so a bad one is a usage error naming the file, line or key instead of cargo failing
//! to start ("starting cargo: …", exit 1) after the toolchain was provisioned.
//!
//! The file is read as a file someone else wrote ([`files::read_named`]): a regular file, never
//! a FIFO or device, at most [`LIMIT`] bytes, and, when the repository names it (metadata,
//! `CargoLambda.toml`), inside the workspace. A line that does not parse is named by its number,
//! never quoted: the file may hold secrets, or be a symlink to `/proc/self/environ`.

use std::path::Path;

use super::source::Source;
use crate::error::{Error, Result};
use crate::files::{self, Bound};

/// The largest env file read (far above any real one).
pub const LIMIT: u64 = 1 << 20;

/// The most variables a run sets on cargo: every one costs room in the exec's environment,
/// which Linux limits (a quarter of the stack, 2 MiB by default), and cargo's children add theirs.
pub const MAX_VARIABLES: usize = 4096;

/// The longest value Linux passes to a program (`MAX_ARG_STRLEN`, 128 KiB with the name).
pub const MAX_VALUE: usize = 128 * 1024 - 1;

/// What an env file must be.
const ACCEPTED: &str = "accepted: a regular file of KEY=VALUE lines (dotenv syntax), at most 1 MiB and 4096 variables";

/// Reads and checks the env file `path` (from `source`; the repository's settings may name only
/// files inside `workspace`).
pub fn read(path: &Path, source: &Source, workspace: &Path) -> Result<Vec<(String, String)>> {
    let refuse = |why: String| Error::usage(format!("env file {} (from {source}) {why}; {ACCEPTED}", path.display()));
    let bound = match source.is_table() {
        true => Bound::Inside(workspace),
        false => Bound::Anywhere,
    };
    let bytes = files::read_named(path, bound, LIMIT).map_err(refuse)?;
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        return Err(refuse(format!("holds a NUL byte on line {}", line_of(&bytes, at))));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        refuse(format!(
            "is not UTF-8 (line {})",
            line_of(e.as_bytes(), e.utf8_error().valid_up_to())
        ))
    })?;
    let mut vars = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        let (key, value) = item.map_err(|err| match err {
            dotenvy::Error::LineParse(line, _) => {
                let at = text.find(&line).unwrap_or(0);
                refuse(format!("line {} is not KEY=VALUE", line_of(text.as_bytes(), at)))
            }
            _ => refuse("cannot be parsed".to_owned()),
        })?;
        check(&key, &value).map_err(|why| refuse(format!("variable {key}: {why}")))?;
        vars.push((key, value));
        if vars.len() > MAX_VARIABLES {
            return Err(refuse(format!("sets more than {MAX_VARIABLES} variables")));
        }
    }
    Ok(vars)
}

/// Why a variable cannot be passed to cargo, if it cannot: Linux refuses a NUL anywhere, an `=`
/// in a name, and values above [`MAX_VALUE`].
pub fn check(key: &str, value: &str) -> Result<(), String> {
    if key.is_empty() || key.contains(['=', '\0']) {
        return Err("a name must be non-empty, without `=` or NUL".into());
    }
    if value.contains('\0') {
        return Err("its value holds a NUL byte".into());
    }
    if key.len() + value.len() > MAX_VALUE {
        return Err(format!("its value is longer than {MAX_VALUE} bytes"));
    }
    Ok(())
}

/// The 1-based line of byte `at`.
fn line_of(bytes: &[u8], at: usize) -> usize {
    bytes[..at.min(bytes.len())].iter().filter(|b| **b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &[u8]) -> std::result::Result<Vec<(String, String)>, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, text).unwrap();
        read(&path, &Source::Flag("--env-file".into()), dir.path()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_bad_line_is_named_by_its_number_never_quoted() {
        let err = read_text(b"A=1\nB=2\nthis is SECRET_VALUE not a pair\n").unwrap_err();
        assert!(err.contains("line 3 is not KEY=VALUE"), "{err}");
        assert!(!err.contains("SECRET_VALUE"), "{err}");
        let err = read_text(b"A=1\nB=SECRET\0X\n").unwrap_err();
        assert!(err.contains("NUL byte on line 2") && !err.contains("SECRET"), "{err}");
        assert_eq!(
            read_text(b"# c\nexport A=1\nB=\"two\"\n").unwrap(),
            [("A".into(), "1".into()), ("B".into(), "two".into())]
        );
    }

    #[test]
    fn too_many_variables_are_refused_before_cargo_starts() {
        let many: String = (0..MAX_VARIABLES + 1).map(|i| format!("V{i}=1\n")).collect();
        let err = read_text(many.as_bytes()).unwrap_err();
        assert!(err.contains("more than 4096 variables"), "{err}");
    }
}
