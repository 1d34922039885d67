//! Every shell command in README.md and docs/*.md works on a fresh clone as
//! written: each `cargo` command names packages, binaries and benches that
//! exist and resolves to one binary; each `target/...` binary is built by an
//! earlier command of the same page; the cheap ones are run. Commands of
//! other tools (curl against the running example, openssl, cargo install)
//! are listed here by name, so a new kind of command must be looked at.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Tools whose commands the docs show and this test does not run: they need
/// the example running, or install software.
const OTHER_TOOLS: [&str; 2] = ["curl", "openssl"];

/// Commands cheap enough to run here, as written.
const RUN: [&str; 1] = ["cargo run -p tickets -- routes"];

struct Package {
    bins: BTreeSet<String>,
    benches: BTreeSet<String>,
    default_run: Option<String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_owned()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn packages() -> BTreeMap<String, Package> {
    let output = Command::new(cargo())
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(root())
        .output()
        .expect("cargo metadata");
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("metadata");
    let mut packages = BTreeMap::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let targets = |kind: &str| -> BTreeSet<String> {
            package["targets"]
                .as_array()
                .expect("targets")
                .iter()
                .filter(|t| t["kind"][0] == kind)
                .map(|t| t["name"].as_str().expect("a name").to_owned())
                .collect()
        };
        packages.insert(
            package["name"].as_str().expect("a name").to_owned(),
            Package {
                bins: targets("bin"),
                benches: targets("bench"),
                default_run: package["default_run"].as_str().map(str::to_owned),
            },
        );
    }
    packages
}

/// The shell commands of `markdown`'s `sh` blocks, continuation lines joined
/// and comments dropped.
fn commands(markdown: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
            continue;
        }
        if !in_block {
            continue;
        }
        let code = line.split(" #").next().unwrap_or("").trim();
        if code.is_empty() || code.starts_with('#') {
            continue;
        }
        match code.strip_suffix('\\') {
            Some(start) => pending.push_str(start),
            None => {
                pending.push_str(code);
                commands.push(std::mem::take(&mut pending));
            }
        }
    }
    commands
}

/// The value after `flag` in `words`.
fn flag<'a>(words: &[&'a str], flag: &str) -> Vec<&'a str> {
    words
        .windows(2)
        .filter(|pair| pair[0] == flag)
        .map(|pair| pair[1])
        .collect()
}

/// Checks one command (one `&&` part); returns what it builds.
fn check(
    command: &str,
    packages: &BTreeMap<String, Package>,
    built: &BTreeSet<String>,
) -> Result<Vec<String>, String> {
    // `VAR=value` before the command is its environment.
    let words: Vec<&str> = command
        .split_whitespace()
        .skip_while(|word| word.contains('=') && !word.starts_with('-'))
        .collect();
    let Some(&program) = words.first() else {
        return Ok(Vec::new());
    };
    if OTHER_TOOLS.contains(&program) {
        return Ok(Vec::new());
    }
    if let Some(binary) = program.strip_prefix("target/release/") {
        return match built.contains(binary) {
            true => Ok(Vec::new()),
            false => Err(format!(
                "`{command}`: nothing before it on the page builds `{binary}`"
            )),
        };
    }
    // A script of the repository (`fuzz/run`): it exists and may be run.
    if program.contains('/') && !program.starts_with("target/") {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(root().join(program)).map(|m| m.permissions().mode());
        return match mode {
            Ok(mode) if mode & 0o111 != 0 => Ok(Vec::new()),
            _ => Err(format!(
                "`{command}`: `{program}` is not an executable file here"
            )),
        };
    }
    if program != "cargo" {
        return Err(format!("`{command}`: a command this test does not know"));
    }
    // Subcommands of installed plugins are documented with their install.
    if matches!(words.get(1), Some(&"install" | &"semver-checks")) {
        return Ok(Vec::new());
    }
    let named = flag(&words, "-p");
    for name in &named {
        if !packages.contains_key(*name) {
            return Err(format!("`{command}`: no package `{name}`"));
        }
    }
    let package = |name: &str| &packages[name];
    match words.get(1) {
        Some(&"run") => {
            let name = named
                .first()
                .ok_or(format!("`{command}`: which package?"))?;
            let bins = flag(&words, "--bin");
            let pkg = package(name);
            let bin = match (bins.first(), &pkg.default_run) {
                (Some(bin), _) => (*bin).to_owned(),
                (None, Some(default)) => default.clone(),
                (None, None) if pkg.bins.len() == 1 => {
                    pkg.bins.iter().next().cloned().expect("one")
                }
                (None, None) => {
                    return Err(format!(
                        "`{command}`: `{name}` has several binaries and no default-run"
                    ));
                }
            };
            match pkg.bins.contains(&bin) {
                true => Ok(vec![bin]),
                false => Err(format!("`{command}`: `{name}` has no binary `{bin}`")),
            }
        }
        Some(&"build") => Ok(named
            .iter()
            .flat_map(|name| package(name).bins.iter().cloned())
            .collect()),
        Some(&"bench") => {
            for bench in flag(&words, "--bench") {
                let found = named
                    .iter()
                    .any(|name| package(name).benches.contains(bench));
                if !found {
                    return Err(format!("`{command}`: no bench `{bench}`"));
                }
            }
            Ok(Vec::new())
        }
        Some(&"test" | &"package") => Ok(Vec::new()),
        _ => Err(format!(
            "`{command}`: a cargo command this test does not know"
        )),
    }
}

#[test]
fn every_documented_command_names_what_exists_and_builds_what_it_runs() {
    let root = root();
    let packages = packages();
    let mut pages = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in &pages {
        let markdown = std::fs::read_to_string(page).expect("a page");
        let mut built = BTreeSet::new();
        for line in commands(&markdown) {
            for part in line.split("&&") {
                match check(part.trim(), &packages, &built) {
                    Ok(builds) => built.extend(builds),
                    Err(problem) => problems.push(format!("{}: {problem}", page.display())),
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} commands found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_refuses_what_failed_before() {
    let packages = packages();
    let none = BTreeSet::new();
    // Before bench had a default-run.
    let mut no_default = packages;
    no_default.get_mut("bench").expect("bench").default_run = None;
    assert!(check("cargo run --release -p bench", &no_default, &none).is_err());
    assert!(check("target/release/bench --guard", &no_default, &none).is_err());
    assert!(check("cargo run -p nonesuch", &no_default, &none).is_err());
    assert!(check("rm -rf /", &no_default, &none).is_err());
    // A repository script that is not there, or not executable.
    assert!(check("fuzz/nonesuch", &no_default, &none).is_err());
    assert!(check("fuzz/Cargo.toml", &no_default, &none).is_err());
    assert!(check("SECONDS_EACH=1 fuzz/run requests", &no_default, &none).is_ok());
}

#[test]
fn the_cheap_commands_run_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let documented = commands(&readme);
    for command in RUN {
        assert!(
            documented.iter().any(|c| c == command),
            "README shows `{command}`"
        );
        let words: Vec<&str> = command.split_whitespace().collect();
        let output = Command::new(cargo())
            .args(&words[1..])
            .current_dir(root())
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "`{command}` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("/tickets/:ticket/events"), "{stdout}");
    }
}
