//! Official SDKs for the tests to drive: a Python venv with a pinned package,
//! `npm ci` of a pinned lock. Made once per test process, as `npm ci` is for
//! the browser tests. A missing `python3 -m venv` or `npm` fails the test; a
//! test needing them carries `#[cfg_attr(missing_python, ignore = ..)]` (or
//! `missing_npm`), so a machine without them reports it ignored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

/// The Python of a venv at `dir` with `requirement` (`name==version`)
/// installed.
pub fn python_venv(dir: &Path, requirement: &str) -> PathBuf {
    static MADE: Mutex<Option<HashMap<PathBuf, PathBuf>>> = Mutex::new(None);
    let mut made = MADE.lock().unwrap_or_else(PoisonError::into_inner);
    let made = made.get_or_insert_with(HashMap::new);
    if let Some(python) = made.get(dir) {
        return python.clone();
    }
    let python = dir.join("bin/python");
    if !python.exists() {
        let created = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(dir)
            .status();
        assert!(
            matches!(created, Ok(status) if status.success()),
            "python3 with venv is needed for the SDK tests ({requirement}): {created:?}"
        );
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
    python
}

/// `npm ci` in `dir` unless its `node_modules` is newer than its lock.
pub fn npm_ci(dir: &Path) {
    static DONE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let mut done = DONE.lock().unwrap_or_else(PoisonError::into_inner);
    if done.iter().any(|made| made == dir) {
        return;
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
            Err(err) => panic!("npm is needed for the tests in {}: {err}", dir.display()),
        }
    }
    done.push(dir.to_owned());
}
