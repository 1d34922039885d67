//! Two tickets instances on one Redis behind a real nginx doing round-robin:
//! with `REDIS_URL` set they keep no state, so any instance answers any
//! request, and a stream whose instance dies reconnects through the balancer
//! to the other one and resumes with nothing lost. The test writes its own
//! nginx configuration on free ports; it is reported ignored where nginx or
//! redis-server is missing (`.ci/run` installs both). The same again on a
//! Redis Cluster (`REDIS_CLUSTER_URLS`), and on PostgreSQL (`DATABASE_URL`:
//! records in tables, each comment and its event one transaction).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use http_body_util::{Empty, Full};
use hyper::body::Bytes;
use justsse_tests::nginx::{Process, free_port, nginx, nginx_binary};
use justsse_tests::{
    LiveEvents, PostgresServer, RedisCluster, RedisServer, get, json, listening, request, send,
};

/// The tickets binary `cargo test --workspace` built beside this test (built
/// here when this test runs alone).
fn tickets_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let debug = exe.parent().and_then(Path::parent).expect("target/debug");
    let binary = debug.join("tickets");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let built = Command::new(cargo)
            .args(["build", "-p", "tickets", "--bin", "tickets"])
            .status()
            .expect("cargo runs");
        assert!(built.success(), "cargo build -p tickets failed");
    }
    binary
}

/// Where the instances keep everything: `REDIS_URL`, `REDIS_CLUSTER_URLS` or
/// `DATABASE_URL`, and its value.
type Store<'a> = (&'static str, &'a str);

fn instance(port: u16, (variable, store): Store<'_>) -> Process {
    Process(
        Command::new(tickets_binary())
            .env("PORT", port.to_string())
            .env(variable, store)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("a tickets instance starts"),
    )
}

async fn post_json(
    addr: SocketAddr,
    path: &str,
    body: &str,
) -> hyper::Response<hyper::body::Incoming> {
    let req = request("POST", path)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("a request");
    send(addr, req).await
}

/// The ticket's event stream through `addr`, as an admin, resuming after
/// `last` when given; and the process id of the instance that serves it (the
/// first part of its `x-request-id`).
async fn stream(addr: SocketAddr, last: Option<&str>) -> (LiveEvents, String) {
    let mut req = request("GET", "/tickets/1/events")
        .header("accept", "text/event-stream")
        .header("authorization", "Bearer admin-token");
    if let Some(last) = last {
        req = req.header("last-event-id", last);
    }
    let response = send(addr, req.body(Empty::<Bytes>::new()).expect("a request")).await;
    assert_eq!(response.status(), 200);
    let served_by = response.headers()["x-request-id"]
        .to_str()
        .expect("text")
        .split('-')
        .next()
        .expect("a pid")
        .to_owned();
    (LiveEvents::new(response), served_by)
}

#[cfg_attr(
    any(missing_redis, missing_nginx),
    ignore = "needs redis-server and nginx, not installed here"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_nginx_share_everything_and_streams_fail_over() {
    let nginx_binary = nginx_binary();
    let redis = RedisServer::start().await;
    share_everything_and_fail_over(&nginx_binary, ("REDIS_URL", &redis.url())).await;
}

#[cfg_attr(
    any(missing_redis, missing_nginx),
    ignore = "needs redis-server and nginx, not installed here"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_a_redis_cluster_behind_nginx_do_the_same() {
    let nginx_binary = nginx_binary();
    let cluster = RedisCluster::start().await;
    let urls = cluster.urls().join(",");
    share_everything_and_fail_over(&nginx_binary, ("REDIS_CLUSTER_URLS", &urls)).await;
}

#[cfg_attr(
    any(missing_postgres, missing_nginx),
    ignore = "needs PostgreSQL and nginx, not installed here"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_behind_nginx_do_the_same() {
    let nginx_binary = nginx_binary();
    let postgres = PostgresServer::start().await;
    share_everything_and_fail_over(&nginx_binary, ("DATABASE_URL", &postgres.url())).await;
}

/// Two instances keeping everything in `store` behind nginx: created through
/// the balancer and found on each; a stream whose instance dies resumes on
/// the other with nothing lost or repeated.
async fn share_everything_and_fail_over(nginx_binary: &Path, store: Store<'_>) {
    let (port_a, port_b, port_lb) = (free_port(), free_port(), free_port());
    let mut instances = [Some(instance(port_a, store)), Some(instance(port_b, store))];
    listening(port_a, "instance a").await;
    listening(port_b, "instance b").await;
    let dir = std::env::temp_dir().join(format!("justsse-nginx-{}-{port_lb}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("nginx's directory");
    let _nginx = nginx(nginx_binary, &dir, port_lb, &[port_a, port_b]);
    listening(port_lb, "nginx").await;
    let lb = SocketAddr::from(([127, 0, 0, 1], port_lb));

    // Created through the balancer; seen by each instance directly.
    let created = post_json(lb, "/tickets", r#"{"subject":"printer on fire"}"#).await;
    assert_eq!(created.status(), 201);
    assert_eq!(json(created).await["id"], 1);
    for port in [port_a, port_b] {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let ticket = get(addr, "/tickets/1").await;
        assert_eq!(
            ticket.status(),
            200,
            "instance on {port} does not know the ticket"
        );
        assert_eq!(json(ticket).await["subject"], "printer on fire");
    }
    // Listed and found through the balancer, whichever instance answers.
    for _ in 0..4 {
        assert_eq!(get(lb, "/tickets/1").await.status(), 200);
        let list = json(get(lb, "/tickets").await).await;
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    }

    // A stream through the balancer sees comments posted through it.
    let (mut events, served_by) = stream(lb, None).await;
    assert_eq!(
        events.next().await.expect("connected").event_type,
        "connected"
    );
    let posted = post_json(lb, "/tickets/1/comments", r#"{"body":"on it"}"#).await;
    assert_eq!(posted.status(), 201);
    let first = events.next().await.expect("the comment");
    assert_eq!(first.event_type, "comment");
    assert!(first.data.contains("on it"), "{}", first.data);
    let last_id = first.last_event_id.clone();

    // Its instance dies; comments go on through the other.
    drop(events);
    let pids: Vec<String> = instances
        .iter()
        .map(|p| format!("{:x}", p.as_ref().expect("running").0.id()))
        .collect();
    let dying = pids
        .iter()
        .position(|pid| *pid == served_by)
        .expect("one of the instances served the stream");
    drop(instances[dying].take());
    for body in ["two", "three"] {
        let posted = post_json(
            lb,
            "/tickets/1/comments",
            &format!(r#"{{"body":"{body}"}}"#),
        )
        .await;
        assert_eq!(posted.status(), 201, "nginx moves on to the live instance");
    }

    // The browser reconnects with its Last-Event-ID: the other instance
    // resumes it after the last comment it saw, nothing lost or repeated.
    let (mut events, resumed_by) = stream(lb, Some(&last_id)).await;
    assert_ne!(resumed_by, served_by, "the dead instance answered");
    assert_eq!(
        events.next().await.expect("connected").event_type,
        "connected"
    );
    let mut bodies = Vec::new();
    for _ in 0..2 {
        let event = events.next().await.expect("a missed comment");
        assert_eq!(event.event_type, "comment");
        let comment: serde_json::Value = serde_json::from_str(&event.data).expect("JSON");
        bodies.push(comment["body"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(bodies, ["two", "three"]);
    let snapshot = {
        let req = request("GET", "/tickets/1/comments")
            .header("authorization", "Bearer admin-token")
            .body(Empty::<Bytes>::new())
            .expect("a request");
        json(send(lb, req).await).await
    };
    let numbers: Vec<u64> = snapshot
        .as_array()
        .expect("comments")
        .iter()
        .filter_map(|c| c["id"].as_u64())
        .collect();
    assert_eq!(
        numbers,
        [1, 2, 3],
        "numbered once across instances: {snapshot}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
