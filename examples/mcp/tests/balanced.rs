//! Two MCP server processes on one Redis behind a real nginx (round-robin),
//! driven by the official Python SDK: a countdown's stream, cut by the
//! server every 500 ms, is resumed through the balancer on whichever
//! instance it picks and loses nothing; then the instance that began the
//! session is killed, and the same session goes on through the other.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use justsse_tests::nginx::{Process, free_port, nginx, nginx_binary};
use justsse_tests::{RedisServer, listening};
use serde_json::{Value, json};

/// An instance on `port`, logging to `log`.
fn instance(port: u16, redis: &str, log: &PathBuf) -> Process {
    let log = std::fs::File::create(log).expect("a log file");
    Process(
        Command::new(env!("CARGO_BIN_EXE_mcp"))
            .env("PORT", port.to_string())
            .env("REDIS_URL", redis)
            .env("MCP_HOLD_MS", "500")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(log)
            .spawn()
            .expect("an MCP instance starts"),
    )
}

#[cfg_attr(
    any(missing_redis, missing_nginx, missing_python),
    ignore = "needs redis-server and nginx and python3-venv, not installed here"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_behind_nginx_outlives_the_instance_that_began_it() {
    let nginx_binary = nginx_binary();
    let redis = RedisServer::start().await;
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mcp-2.3.0");
    let python = justsse_tests::sdk::python_venv(&venv, "mcp==2.3.0");
    let (port_a, port_b, port_lb) = (free_port(), free_port(), free_port());
    let dir = std::env::temp_dir().join(format!("mcp-nginx-{}-{port_lb}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let logs = [dir.join("a.log"), dir.join("b.log")];
    let mut instances = [
        Some(instance(port_a, &redis.url(), &logs[0])),
        Some(instance(port_b, &redis.url(), &logs[1])),
    ];
    listening(port_a, "instance a").await;
    listening(port_b, "instance b").await;
    let _nginx = nginx(&nginx_binary, &dir, port_lb, &[port_a, port_b]);
    listening(port_lb, "nginx").await;

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_sdk.py");
    let mut client = Process(
        Command::new(python)
            .arg(script)
            .arg(format!("http://127.0.0.1:{port_lb}/mcp"))
            .arg("balanced")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SDK script runs"),
    );
    let stdout = client.0.stdout.take().expect("its output");
    let (lines, mut receive) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut next_json = async || -> Value {
        loop {
            let line = tokio::time::timeout(std::time::Duration::from_secs(30), receive.recv())
                .await
                .expect("the SDK script answers in time")
                .expect("the SDK script printed a line");
            if let Ok(value) = serde_json::from_str(&line) {
                return value;
            }
        }
    };
    let session = next_json().await["session"]
        .as_str()
        .expect("the session id")
        .to_owned();

    // The instance whose log says it began the session dies.
    let began = logs
        .iter()
        .position(|log| {
            std::fs::read_to_string(log).is_ok_and(|text| {
                text.lines()
                    .any(|line| line.contains("session began") && line.contains(&session))
            })
        })
        .expect("an instance logged the session's beginning");
    instances[began] = None;
    let mut stdin = client.0.stdin.take().expect("its input");
    stdin.write_all(b"go\n").expect("the script reads on");
    drop(stdin);

    let seen = next_json().await;
    assert_eq!(
        seen["before"],
        json!(["liftoff", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]),
        "the cut stream resumed through the balancer, every step once"
    );
    assert_eq!(
        seen["after"],
        json!(["still here", "liftoff", [1.0, 2.0, 3.0]]),
        "the session goes on without the instance that began it"
    );
    assert_eq!(seen["tools"], 3);
    assert_eq!(seen["same_session"], true);
    drop(instances);
}
