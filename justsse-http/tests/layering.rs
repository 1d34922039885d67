//! The crate's layers, bottom to top (see the module list in `lib.rs`): a file
//! may import from its own layer or a lower one, never from a higher one.
//! Read from the sources, so that a new upward `use crate::..` fails here.

use std::path::Path;

/// Each top-level module of `src/` and its layer.
const LAYERS: [(&str, usize); 13] = [
    ("path", 1),
    ("error", 1),
    ("observe", 1),
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
        .unwrap_or_else(|| panic!("module `{module}` has no layer in tests/layering.rs"))
}

/// The top-level module a file of `src/` belongs to.
fn module_of(file: &Path, src: &Path) -> String {
    let relative = file.strip_prefix(src).expect("under src");
    let first = relative.components().next().expect("a component");
    let first = first.as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The top-level modules `text` names with `crate::`.
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
        if name.starts_with(|c: char| c.is_ascii_lowercase()) {
            found.push(name);
        }
    }
    found
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reads src") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_file_imports_from_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    assert!(all.len() > 20, "read the sources");
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
