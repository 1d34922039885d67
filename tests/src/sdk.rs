//! Official SDKs for the tests to drive: a Python venv with a pinned package,
//! `npm ci` of a pinned lock. Made once per test process, as `npm ci` is for
//! the browser tests; a missing `python3 -m venv` or `npm` is a failure under
//! `CI=true`, and said loudly elsewhere.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

/// The Python of a venv at `dir` with `requirement` (`name==version`)
/// installed; `None` (said loudly) where no `python3 -m venv` is at hand.
pub fn python_venv(dir: &Path, requirement: &str) -> Option<PathBuf> {
    static MADE: Mutex<Option<HashMap<PathBuf, PathBuf>>> = Mutex::new(None);
    let mut made = MADE.lock().unwrap_or_else(PoisonError::into_inner);
    let made = made.get_or_insert_with(HashMap::new);
    if let Some(python) = made.get(dir) {
        return Some(python.clone());
    }
    let python = dir.join("bin/python");
    if !python.exists() {
        let created = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(dir)
            .status();
        match created {
            Ok(status) if status.success() => {}
            other => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "python3 with venv is needed for the SDK tests ({requirement}): {other:?}"
                );
                eprintln!(
                    "SKIPPED: no python3 -m venv ({other:?}); the {requirement} tests did not run"
                );
                return None;
            }
        }
        let installed = Command::new(dir.join("bin/pip"))
            .args(["install", "--quiet", requirement])
            .status()
            .expect("pip runs");
        if !installed.success() {
            // A half-made venv would be taken for a made one next time.
            let _ = std::fs::remove_dir_all(dir);
            panic!("pip install {requirement} failed");
        }
    }
    made.insert(dir.to_owned(), python.clone());
    Some(python)
}

/// `npm ci` in `dir` unless its `node_modules` is newer than its lock;
/// `None` (said loudly) where npm is not installed.
pub fn npm_ci(dir: &Path) -> Option<()> {
    static DONE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let mut done = DONE.lock().unwrap_or_else(PoisonError::into_inner);
    if done.iter().any(|made| made == dir) {
        return Some(());
    }
    let modified = |path: PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let fresh = match (
        modified(dir.join("node_modules/.package-lock.json")),
        modified(dir.join("package-lock.json")),
    ) {
        (Some(installed), Some(lock)) => installed >= lock,
        _ => false,
    };
    if !fresh {
        let ran = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(dir)
            .status();
        match ran {
            Ok(status) => assert!(status.success(), "npm ci in {} failed", dir.display()),
            Err(err) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "npm is needed for the SDK tests in {}: {err}",
                    dir.display()
                );
                eprintln!(
                    "SKIPPED: no npm ({err}); the tests in {} did not run",
                    dir.display()
                );
                return None;
            }
        }
    }
    done.push(dir.to_owned());
    Some(())
}
