//! The tool cache: where provisioned Zig versions live, one folder per version.
//!
//! An install is made in a temporary folder next to its final place and renamed into place
//! while holding a file lock, so concurrent runs end with one good install, a reader never sees
//! a half-unpacked one, and a failed install leaves nothing behind but the lock file.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::cli::EnvVars;

/// The name of the lock file in the cache's `zig/` folder.
const LOCK_FILE: &str = ".lock";

/// The tool cache and where its location came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cache {
    /// The cache root.
    pub root: PathBuf,
    /// `env LAMBDA_BUILD_CACHE`, `env RUNNER_TOOL_CACHE` or `user cache dir`.
    pub source: String,
}

impl Cache {
    /// `$LAMBDA_BUILD_CACHE`, else `$RUNNER_TOOL_CACHE/lambda-build` (GitHub's hosted tool
    /// cache), else the user cache dir; `None` when there is no home to put it in.
    pub fn locate(env: &EnvVars) -> Option<Cache> {
        if let Some(dir) = env.get("LAMBDA_BUILD_CACHE") {
            return Some(Cache {
                root: PathBuf::from(dir),
                source: "env LAMBDA_BUILD_CACHE".into(),
            });
        }
        if let Some(dir) = env.get("RUNNER_TOOL_CACHE") {
            return Some(Cache {
                root: Path::new(dir).join("lambda-build"),
                source: "env RUNNER_TOOL_CACHE".into(),
            });
        }
        dirs::cache_dir().map(|dir| Cache {
            root: dir.join("lambda-build"),
            source: "user cache dir".into(),
        })
    }

    /// The folder a Zig version is (or would be) installed in.
    pub fn zig_home(&self, version: &str) -> PathBuf {
        self.zig_root().join(version)
    }

    fn zig_root(&self) -> PathBuf {
        self.root.join("zig")
    }

    /// Installs a Zig version unless it is there already: under the cache lock, `fill` puts the
    /// files into a temporary folder, `check` runs the result, and only then is the folder
    /// renamed into place. Returns the install's folder.
    ///
    /// `usable` tells whether an existing install works; a broken one is replaced.
    pub fn install_zig(
        &self,
        version: &str,
        usable: impl Fn(&Path) -> bool,
        fill: impl FnOnce(&Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<PathBuf> {
        let root = self.zig_root();
        std::fs::create_dir_all(&root).with_context(|| format!("creating the tool cache {}", root.display()))?;
        let _lock = lock(&root.join(LOCK_FILE))?;
        let home = self.zig_home(version);
        if home.exists() {
            if usable(&home) {
                tracing::debug!("another run installed zig {version} meanwhile");
                return Ok(home);
            }
            tracing::warn!("replacing the broken zig install in {}", home.display());
            std::fs::remove_dir_all(&home).with_context(|| format!("removing the broken {}", home.display()))?;
        }
        let staging = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempdir_in(&root)
            .with_context(|| format!("creating a temporary folder in {}", root.display()))?;
        fill(staging.path())?;
        if !usable(staging.path()) {
            bail!("the unpacked Zig does not run `zig version` as {version}");
        }
        let staged = staging.keep();
        if let Err(err) = std::fs::rename(&staged, &home) {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(err).with_context(|| format!("moving Zig into {}", home.display()));
        }
        Ok(home)
    }
}

/// Takes the exclusive lock, saying so when another run holds it.
fn lock(path: &Path) -> anyhow::Result<File> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("opening the lock {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            crate::output::line(format_args!(
                "waiting for another lambda-build to finish installing Zig ({})",
                path.display()
            ));
        }
        Err(std::fs::TryLockError::Error(err)) => {
            return Err(err).with_context(|| format!("locking {}", path.display()));
        }
    }
    file.lock().with_context(|| format!("locking {}", path.display()))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(dir: &Path) -> Cache {
        Cache {
            root: dir.to_path_buf(),
            source: "test".into(),
        }
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn location_follows_the_documented_order() {
        let both = EnvVars::from_pairs([("LAMBDA_BUILD_CACHE", "/a"), ("RUNNER_TOOL_CACHE", "/b")]);
        assert_eq!(Cache::locate(&both).unwrap().root, Path::new("/a"));
        let runner = EnvVars::from_pairs([("RUNNER_TOOL_CACHE", "/b")]);
        let located = Cache::locate(&runner).unwrap();
        assert_eq!(located.root, Path::new("/b/lambda-build"));
        assert_eq!(located.source, "env RUNNER_TOOL_CACHE");
    }

    #[test]
    fn a_failed_fill_leaves_only_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let err = cache(dir.path())
            .install_zig(
                "1.0.0",
                |_| true,
                |staging| {
                    std::fs::write(staging.join("half"), "x").unwrap();
                    bail!("network gone")
                },
            )
            .unwrap_err();
        assert_eq!(err.to_string(), "network gone");
        assert_eq!(entries(&dir.path().join("zig")), [LOCK_FILE]);
    }

    #[test]
    fn an_install_that_does_not_run_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let err = cache(dir.path())
            .install_zig("1.0.0", |_| false, |_| Ok(()))
            .unwrap_err();
        assert!(err.to_string().contains("does not run"), "{err}");
        assert_eq!(entries(&dir.path().join("zig")), [LOCK_FILE]);
    }

    #[test]
    fn a_working_install_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path());
        let works = |home: &Path| home.join("zig").exists();
        let home = cache
            .install_zig("1.0.0", works, |staging| Ok(std::fs::write(staging.join("zig"), "")?))
            .unwrap();
        assert_eq!(home, cache.zig_home("1.0.0"));
        let again = cache
            .install_zig("1.0.0", works, |_| panic!("must not fill an existing install"))
            .unwrap();
        assert_eq!(again, home);
        assert_eq!(entries(&dir.path().join("zig")), [LOCK_FILE, "1.0.0"]);
    }
}
