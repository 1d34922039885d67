//! `tickets routes` prints the route table and exits without serving;
//! `tickets routes --json` prints the same table as JSON.

use std::process::Command;

fn run(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_tickets"))
        .args(args)
        // A port already taken would not matter: nothing is bound.
        .env("PORT", "1")
        .output()
        .expect("the example runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn routes_prints_the_table_and_exits() {
    let text = run(&["routes"]);
    assert!(
        !text.contains("tickets example on"),
        "it does not serve: {text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), tickets::app().routes().len(), "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("GET   /tickets/:ticket/events") && l.contains(" sse ")),
        "{text}"
    );

    let json: serde_json::Value = serde_json::from_str(&run(&["routes", "--json"])).expect("JSON");
    let rows = json.as_array().expect("an array");
    assert_eq!(rows.len(), lines.len());
    let events = rows
        .iter()
        .find(|r| r["path"] == "/tickets/:ticket/events")
        .expect("the events route");
    assert_eq!(events["kind"], "sse");
    assert_eq!(events["uses"], serde_json::json!(["auth"]));
    assert_eq!(events["params"][0]["type"], "Ticket");
    assert_eq!(
        events["events"],
        serde_json::json!(["connected", "comment"])
    );
    // Each typed event's data schema, self-contained.
    let comment = &events["event_schemas"]["comment"];
    assert_eq!(comment["required"], serde_json::json!(["id", "body"]));
    assert_eq!(comment["properties"]["body"]["type"], "string");
    let list = rows
        .iter()
        .find(|r| r["path"] == "/tickets" && r["method"] == "GET")
        .expect("the list route");
    assert!(list.get("event_schemas").is_none(), "no events, no schemas");
}
