//! The real-browser tests (`tests/browser`, headless Chromium driven by
//! playwright-core), run from `cargo test` so that one command runs every
//! test. A machine without Chromium or Node.js reports it ignored (fails under `CI=true`).

use std::path::Path;
use std::process::Command;

fn require(program: &str, what: &str) {
    let found = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "the browser tests need {what} (`{program}` was not found); on Debian: apt-get install {what}"
    );
}

#[cfg_attr(missing_chromium, ignore = "needs chromium, not installed here")]
#[test]
fn browser_tests_pass_in_chromium() {
    require("node", "nodejs npm");
    require("npm", "npm");
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "the browser tests need Debian's Chromium at /usr/bin/chromium: apt-get install chromium"
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    let installed = ["playwright-core", "@microsoft/fetch-event-source"]
        .iter()
        .all(|package| dir.join("node_modules").join(package).exists());
    if !installed {
        let installed = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm runs");
        assert!(installed.success(), "npm ci in tests/browser failed");
    }
    let status = Command::new("npm")
        .arg("test")
        .current_dir(&dir)
        .status()
        .expect("npm runs");
    assert!(status.success(), "the browser tests failed (output above)");
}
