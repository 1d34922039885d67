//! One contract from the Rust event enum to a TypeScript page: the tickets
//! example's OpenAPI document is turned into types by `openapi-typescript`
//! (npm, pinned in `tests/typescript`), and a page module using them
//! (`tests/typescript/page.ts`: a JSON route's body, each event of a ticket's
//! stream as a discriminated union) compiles with `tsc --strict`; a field
//! renamed, or an event added, on the Rust side fails that compile.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("typescript")
}

/// Generates the types of `doc` beside a copy of the page in a directory of
/// its own, then type-checks the page; what `tsc` said.
fn compile(name: &str, doc: &Value) -> Output {
    let project = project();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("typescript-{name}"));
    std::fs::create_dir_all(&dir).expect("a directory");
    for file in ["page.ts", "tsconfig.json"] {
        std::fs::copy(project.join(file), dir.join(file)).expect("the page");
    }
    std::fs::write(dir.join("tickets-openapi.json"), doc.to_string()).expect("the document");
    let generated = Command::new("node")
        .arg(project.join("node_modules/openapi-typescript/bin/cli.js"))
        .arg(dir.join("tickets-openapi.json"))
        .arg("-o")
        .arg(dir.join("tickets-api.d.ts"))
        .output()
        .expect("node runs");
    assert!(
        generated.status.success(),
        "openapi-typescript failed: {}",
        String::from_utf8_lossy(&generated.stderr)
    );
    Command::new("node")
        .arg(project.join("node_modules/typescript/bin/tsc"))
        .arg("-p")
        .arg(dir.join("tsconfig.json"))
        .output()
        .expect("node runs")
}

fn said(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[cfg_attr(missing_npm, ignore = "needs npm, not installed here")]
#[test]
fn the_tickets_contract_compiles_a_typescript_page_and_a_change_breaks_it() {
    justsse_tests::sdk::npm_ci(&project());
    let doc = tickets::app().openapi(&tickets::openapi());

    let compiled = compile("as-served", &doc);
    assert!(
        compiled.status.success(),
        "the page does not compile against the served contract:\n{}",
        said(&compiled)
    );

    // A field renamed in Rust (`Ticket::subject` -> `title`).
    let mut renamed = doc.clone();
    let ticket = &mut renamed["components"]["schemas"]["Ticket"];
    let subject = ticket["properties"]["subject"].take();
    ticket["properties"]["title"] = subject;
    ticket["properties"]
        .as_object_mut()
        .expect("properties")
        .remove("subject");
    ticket["required"] = json!(["id", "title"]);
    let broken = compile("renamed", &renamed);
    assert!(!broken.status.success(), "a renamed field compiled");
    assert!(
        said(&broken).contains("Property 'subject' does not exist"),
        "{}",
        said(&broken)
    );

    // An event added to the enum: the page's `switch` no longer covers them all.
    let mut added = doc.clone();
    let union = added["components"]["schemas"]["TicketEvent"]["oneOf"]
        .as_array_mut()
        .expect("the events' union");
    let mut closed = union[0].clone();
    closed["properties"]["event"] = json!({ "const": "closed" });
    union.push(closed);
    let broken = compile("added", &added);
    assert!(!broken.status.success(), "an unhandled event compiled");
    assert!(said(&broken).contains("page.ts"), "{}", said(&broken));
}
