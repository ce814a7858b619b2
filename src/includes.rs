//! `--include`: the files each zip gets besides the binary, listed before anything compiles.
//!
//! Include folders come from the repository being built, so they are walked as hostile input:
//! - a symlink is followed only when it resolves to a regular file or folder inside the
//!   workspace (or inside the include folder itself); one leading elsewhere (`/proc/self/environ`,
//!   a home folder) would put files from outside the source tree into a zip, so it is a usage error;
//! - FIFOs, sockets and devices are usage errors, never read (reading a FIFO blocks forever);
//! - a symlink loop is a usage error instead of an endless walk;
//! - the lambda dir is never packed, even when it lies inside an included folder, so a zip does
//!   not grow with the previous run's zips.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::config::Include;
use crate::error::{Error, Result};
use crate::files::kind_of;

/// One file an include adds to a zip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncludeFile {
    /// The entry name inside the zip, `/`-separated.
    pub name: String,
    /// Where to read it (a symlink already resolved).
    pub path: PathBuf,
    /// Its size when it was listed; packaging refuses it if it changed.
    pub size: u64,
    /// 0o755 when executable, else 0o644.
    pub mode: u32,
}

/// Where include symlinks may lead, and what is never packed.
#[derive(Clone, Debug)]
pub struct Bounds {
    /// The workspace root, resolved.
    workspace: PathBuf,
    /// The lambda dir, resolved, when it exists.
    lambda_dir: Option<PathBuf>,
}

impl Bounds {
    /// Bounds for a workspace and its lambda dir.
    pub fn new(workspace_root: &Path, lambda_dir: &Path) -> Bounds {
        Bounds {
            workspace: fs::canonicalize(workspace_root).unwrap_or_else(|_| workspace_root.to_path_buf()),
            lambda_dir: fs::canonicalize(lambda_dir).ok(),
        }
    }
}

/// The files of every include list, walked once per distinct list.
pub fn list_all<'a>(lists: impl IntoIterator<Item = &'a [Include]>, bounds: &Bounds) -> Result<Vec<Vec<IncludeFile>>> {
    let mut done: Vec<(&[Include], Vec<IncludeFile>)> = Vec::new();
    let mut out = Vec::new();
    for includes in lists {
        let files = match done.iter().find(|(seen, _)| *seen == includes) {
            Some((_, files)) => files.clone(),
            None => {
                let mut files = Vec::new();
                for include in includes {
                    files.extend(list(include, bounds)?);
                }
                done.push((includes, files.clone()));
                files
            }
        };
        out.push(files);
    }
    Ok(out)
}

/// The files one include adds, sorted by name.
pub fn list(include: &Include, bounds: &Bounds) -> Result<Vec<IncludeFile>> {
    let root = &include.path;
    let error = |what: String| {
        Error::usage(format!(
            "include {}: {what}; accepted: regular files and folders, and symlinks to them inside the workspace {}",
            root.display(),
            bounds.workspace.display()
        ))
    };
    // A root that is a real folder outside the workspace (named explicitly by the user) also
    // bounds the symlinks inside it.
    let mut inside = vec![bounds.workspace.clone()];
    let root_is_link = fs::symlink_metadata(root).is_ok_and(|m| m.file_type().is_symlink());
    if !root_is_link && let Ok(real) = fs::canonicalize(root) {
        inside.push(real);
    }
    let mut files = BTreeMap::new();
    // (path as listed, entry name, the resolved folders above it, to catch symlink loops)
    let mut stack: Vec<(PathBuf, String, Vec<PathBuf>)> = vec![(root.clone(), include.name.clone(), Vec::new())];
    while let Some((path, name, ancestors)) = stack.pop() {
        let meta = fs::symlink_metadata(&path).map_err(|e| error(format!("cannot read {}: {e}", path.display())))?;
        let (real, meta) = if meta.file_type().is_symlink() {
            let real = fs::canonicalize(&path).map_err(|_| error(format!("{} is a broken symlink", path.display())))?;
            if !inside.iter().any(|bound| real.starts_with(bound)) {
                return Err(error(format!(
                    "symlink {} leads to {}, outside the workspace",
                    path.display(),
                    real.display()
                )));
            }
            let meta = fs::metadata(&real).map_err(|e| error(format!("cannot read {}: {e}", real.display())))?;
            (real, meta)
        } else {
            (fs::canonicalize(&path).unwrap_or_else(|_| path.clone()), meta)
        };
        if meta.is_dir() {
            if bounds.lambda_dir.as_ref() == Some(&real) {
                tracing::debug!(
                    "not packing the lambda dir {} (inside include {})",
                    path.display(),
                    root.display()
                );
                continue;
            }
            if ancestors.contains(&real) {
                return Err(error(format!(
                    "symlink {} leads back to {}, a folder above it (a loop)",
                    path.display(),
                    real.display()
                )));
            }
            let mut below = ancestors.clone();
            below.push(real.clone());
            let entries = fs::read_dir(&path).map_err(|e| error(format!("cannot list {}: {e}", path.display())))?;
            for entry in entries {
                let entry = entry.map_err(|e| error(format!("cannot list {}: {e}", path.display())))?;
                let file_name = entry.file_name();
                let Some(child) = file_name.to_str() else {
                    return Err(error(format!(
                        "{} has a name that is not UTF-8, which a zip entry cannot hold",
                        entry.path().display()
                    )));
                };
                stack.push((entry.path(), format!("{name}/{child}"), below.clone()));
            }
        } else if meta.is_file() {
            let mode = if meta.permissions().mode() & 0o111 != 0 {
                0o755
            } else {
                0o644
            };
            files.insert(
                name.clone(),
                IncludeFile {
                    name,
                    path: real,
                    size: meta.len(),
                    mode,
                },
            );
        } else {
            return Err(error(format!(
                "{} is {}, which cannot be packed",
                path.display(),
                kind_of(&meta.file_type())
            )));
        }
    }
    Ok(files.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn include(path: &Path, name: &str) -> Include {
        Include {
            path: path.to_path_buf(),
            name: name.into(),
        }
    }

    fn names(files: &[IncludeFile]) -> Vec<(&str, u32)> {
        files.iter().map(|f| (f.name.as_str(), f.mode)).collect()
    }

    #[test]
    fn folders_are_walked_with_modes_and_links_inside_are_followed() {
        let ws = tempfile::tempdir().unwrap();
        let root = ws.path().join("assets");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("a.txt"), "a").unwrap();
        fs::write(root.join("sub/run.sh"), "#!/bin/sh").unwrap();
        fs::set_permissions(root.join("sub/run.sh"), fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(ws.path().join("shared.txt"), "shared").unwrap();
        symlink(ws.path().join("shared.txt"), root.join("link.txt")).unwrap();
        let bounds = Bounds::new(ws.path(), &ws.path().join("target/lambda"));
        let files = list(&include(&root, "assets"), &bounds).unwrap();
        assert_eq!(
            names(&files),
            [
                ("assets/a.txt", 0o644),
                ("assets/link.txt", 0o644),
                ("assets/sub/run.sh", 0o755)
            ]
        );
        assert_eq!(files[1].size, 6);
    }

    #[test]
    fn links_outside_fifos_and_loops_are_usage_errors() {
        let ws = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), "s").unwrap();
        let bounds = Bounds::new(ws.path(), &ws.path().join("lambda"));
        let case = |setup: &dyn Fn(&Path), needle: &str| {
            let root = ws.path().join(format!("case{}", needle.len()));
            fs::create_dir_all(&root).unwrap();
            setup(&root);
            match list(&include(&root, "static"), &bounds) {
                Err(Error::Usage(message)) => {
                    assert!(message.contains(needle), "{message}");
                    assert!(!message.contains('\n'), "{message}");
                }
                other => panic!("expected a usage error with {needle:?}, got {other:?}"),
            }
        };
        case(
            &|root| symlink(outside.path().join("secret"), root.join("env")).unwrap(),
            "outside the workspace",
        );
        case(
            &|root| symlink("/proc/self/environ", root.join("environ")).unwrap(),
            "outside",
        );
        case(
            &|root| {
                let status = std::process::Command::new("mkfifo")
                    .arg(root.join("pipe"))
                    .status()
                    .unwrap();
                assert!(status.success());
            },
            "is a FIFO",
        );
        case(&|root| symlink(root, root.join("again")).unwrap(), "a loop");
        case(
            &|root| symlink(root.join("nowhere"), root.join("dangling")).unwrap(),
            "broken symlink",
        );
    }

    #[test]
    fn the_lambda_dir_inside_an_include_is_not_packed() {
        let ws = tempfile::tempdir().unwrap();
        let root = ws.path().join("static");
        fs::create_dir_all(root.join("out/hello")).unwrap();
        fs::write(root.join("out/hello/bootstrap.zip"), "zip").unwrap();
        fs::write(root.join("index.html"), "<p>").unwrap();
        let bounds = Bounds::new(ws.path(), &root.join("out"));
        let files = list(&include(&root, "static"), &bounds).unwrap();
        assert_eq!(names(&files), [("static/index.html", 0o644)]);
    }
}
