//! The guide's getting-started section is a complete project of one's own:
//! its `Cargo.toml` and `src/main.rs`, taken from docs/guide.md as written,
//! build outside this workspace (against the workspace crates by path).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The body of the first fenced block of `language` after `heading`.
fn block_after(guide: &str, heading: &str, language: &str) -> String {
    let section = &guide[guide.find(heading).expect("the section")..];
    let fence = format!("```{language}");
    let start = section.find(&fence).expect("a fenced block");
    let body = &section[start..];
    let body = &body[body.find('\n').expect("a fence line") + 1..];
    let end = body.find("\n```").expect("a closing fence");
    body[..end]
        .lines()
        // Lines hidden from the rendered page (`# ...`) are not the user's.
        .filter(|line| !line.starts_with("# ") && *line != "#")
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_getting_started_project_builds_on_its_own() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace");
    let guide = std::fs::read_to_string(root.join("docs/guide.md")).expect("the guide");
    let manifest = block_after(&guide, "## 1. Getting started", "toml");
    let main = block_after(&guide, "## 1. Getting started", "rust");
    assert!(manifest.contains("[package]") && manifest.contains("serde_json"));
    assert!(main.contains("fn main"));

    // The published dependency becomes the workspace crate; nothing else changes.
    let justsse = format!(
        "justsse = {{ path = {:?} }}",
        root.join("justsse").display().to_string()
    );
    let manifest: String = manifest
        .lines()
        .map(|line| match line {
            _ if line.starts_with("justsse = ") => justsse.as_str(),
            // Its binary would be the `hello` example's namesake.
            "name = \"hello\"" => "name = \"guide-getting-started\"",
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    // Its own workspace, though it sits under this one's target directory.
    let manifest = format!("{manifest}\n\n[workspace]\n");

    let project: PathBuf = root.join("target/guide-project");
    std::fs::create_dir_all(project.join("src")).expect("the project directory");
    std::fs::write(project.join("Cargo.toml"), manifest).expect("Cargo.toml");
    std::fs::write(project.join("src/main.rs"), main).expect("main.rs");
    // The workspace's versions of every dependency, so nothing new is fetched.
    std::fs::copy(root.join("Cargo.lock"), project.join("Cargo.lock")).expect("Cargo.lock");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["build", "--quiet"])
        .current_dir(&project)
        // The workspace's target: the dependencies it shares build once.
        .env("CARGO_TARGET_DIR", root.join("target"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "the guide's project does not build:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        root.join("target/debug/guide-getting-started").exists(),
        "the binary"
    );
}
