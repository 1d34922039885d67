//! How the crates' modules may depend on each other, read from their sources
//! (`crate::` paths), so that a new edge against the rules fails here:
//! justsse-http's layers, bottom to top (the module list in its `lib.rs`),
//! where a file imports from its own layer or a lower one only; and no circle
//! among justsse's modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module of justsse-http's `src/` and its layer.
const LAYERS: [(&str, usize); 14] = [
    ("path", 1),
    ("error", 1),
    ("observe", 1),
    ("shutdown", 1),
    ("stream_limits", 1),
    ("body", 2),
    ("request", 2),
    ("request_body", 2),
    ("response", 2),
    ("sse", 2),
    ("routing", 3),
    ("server", 4),
    ("lib", 5),
    ("main", 5),
];

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
        .unwrap_or_else(|| panic!("module `{module}` has no layer in this test"))
}

/// The top-level module a file of `src/` belongs to.
fn module_of(file: &Path, src: &Path) -> String {
    let relative = file.strip_prefix(src).expect("under src");
    let first = relative.components().next().expect("a component");
    let first = first.as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The top-level modules `text` names with `crate::` (not macros: `crate::stream!`).
fn imported(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        // `justsse_http::` or `$crate::` are not this crate's paths.
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // Root re-exports (`crate::Error`) are how docs link; modules are lowercase.
        let is_macro = rest[name.len()..].starts_with('!');
        if name.starts_with(|c: char| c.is_ascii_lowercase()) && !is_macro {
            found.push(name);
        }
    }
    found
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reads src") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// Every source file of `crate_dir/src`.
fn sources(crate_dir: &str) -> (PathBuf, Vec<PathBuf>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(crate_dir)
        .join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    assert!(all.len() > 20, "read the sources of {crate_dir}");
    (src, all)
}

#[test]
fn no_file_of_justsse_http_imports_from_a_higher_layer() {
    let (src, all) = sources("justsse-http");
    let mut upward = Vec::new();
    for file in &all {
        let module = module_of(file, &src);
        let text = std::fs::read_to_string(file).expect("reads a source");
        for name in imported(&text) {
            if layer(&name) > layer(&module) {
                upward.push(format!(
                    "{} ({module}, layer {}) uses crate::{name} (layer {})",
                    file.strip_prefix(&src).unwrap().display(),
                    layer(&module),
                    layer(&name)
                ));
            }
        }
    }
    upward.sort();
    upward.dedup();
    assert!(
        upward.is_empty(),
        "imports from a higher layer:\n{}",
        upward.join("\n")
    );
}

/// A circle in `graph`, as the modules along it, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|seen| seen == node) {
            let mut found = path[start..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn justsse_has_no_circle_among_its_modules() {
    let (src, all) = sources("justsse");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &all {
        let module = module_of(file, &src);
        // The crate root and the macros' facade name everything by design.
        if module == "lib" || module == "__private" {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("reads a source");
        let edges = graph.entry(module.clone()).or_default();
        for name in imported(&text) {
            if name != module && name != "__private" {
                edges.insert(name);
            }
        }
    }
    assert!(graph.len() > 15, "found the modules");
    if let Some(found) = circle(&graph) {
        panic!(
            "justsse's modules import each other in a circle: {}",
            found.join(" -> ")
        );
    }
}
