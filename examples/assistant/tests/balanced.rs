//! Two assistant processes on one Redis behind a real nginx (round-robin): a
//! background response started through the balancer is dropped by its
//! client, resumed through the balancer on the other instance, and that
//! serving instance is killed mid-generation; the client resumes once more,
//! through the balancer, on the instance generating it, and gets every delta
//! exactly once.

use std::net::SocketAddr;
use std::process::{Command, Stdio};

use bytes::Bytes;
use http_body_util::Full;
use justsse_tests::nginx::{Process, free_port, nginx, nginx_binary};
use justsse_tests::{LiveEvents, RedisServer, listening, request, send};
use serde_json::Value;

fn instance(port: u16, redis: &str) -> Process {
    Process(
        Command::new(env!("CARGO_BIN_EXE_assistant"))
            .env("PORT", port.to_string())
            .env("REDIS_URL", redis)
            .env("ASSISTANT_API_KEYS", "sk-test")
            .env("ASSISTANT_PACE_MS", "50")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("an assistant instance starts"),
    )
}

/// Reads `reader` until `enough` says so or the stream ends: the events' data.
async fn read(reader: &mut LiveEvents, mut enough: impl FnMut(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    while let Some(event) = reader.next().await {
        let data: Value = serde_json::from_str(&event.data).expect("JSON");
        let stop = enough(&data);
        seen.push(data);
        if stop {
            break;
        }
    }
    seen
}

fn resume(id: &str, after: u64) -> justsse::http::Request<Full<Bytes>> {
    request(
        "GET",
        &format!("/v1/responses/{id}?stream=true&starting_after={after}"),
    )
    .header("authorization", "Bearer sk-test")
    .body(Full::default())
    .expect("a request")
}

fn deltas(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .filter_map(|e| e["delta"].as_str())
        .collect()
}

#[cfg_attr(
    any(missing_redis, missing_nginx),
    ignore = "needs redis-server and nginx, not installed here"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_instance_serving_a_resumed_response_behind_nginx_loses_nothing() {
    let nginx_binary = nginx_binary();
    let redis = RedisServer::start().await;
    let (port_a, port_b, port_lb) = (free_port(), free_port(), free_port());
    let mut instances = [
        Some(instance(port_a, &redis.url())),
        Some(instance(port_b, &redis.url())),
    ];
    listening(port_a, "instance a").await;
    listening(port_b, "instance b").await;
    let dir =
        std::env::temp_dir().join(format!("assistant-nginx-{}-{port_lb}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("nginx's directory");
    let _nginx = nginx(&nginx_binary, &dir, port_lb, &[port_a, port_b]);
    listening(port_lb, "nginx").await;
    let lb = SocketAddr::from(([127, 0, 0, 1], port_lb));

    let words: Vec<String> = (0..30).map(|n| format!("w{n}")).collect();
    let body = serde_json::json!({
        "model": "fake-1", "input": words.join(" "), "stream": true, "background": true,
    });
    let start = request("POST", "/v1/responses")
        .header("authorization", "Bearer sk-test")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a request");
    let mut first = LiveEvents::new(send(lb, start).await);
    let mut seen = read(&mut first, |e| {
        e["type"] == "response.output_text.delta" && e["sequence_number"] == 6
    })
    .await;
    drop(first);
    let id = seen[0]["response"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    // The id names the process generating it.
    let generating = u32::from_str_radix(&id[5..13], 16).expect("a pid");
    let other = instances
        .iter()
        .position(|i| i.as_ref().is_some_and(|p| p.0.id() != generating))
        .expect("the other instance");

    // Resumed through the balancer: round-robin sends it to the other
    // instance, which reads the response's record and events from Redis.
    let after = seen
        .last()
        .and_then(|e| e["sequence_number"].as_u64())
        .expect("a number");
    let mut second = LiveEvents::new(send(lb, resume(&id, after)).await);
    seen.extend(
        read(&mut second, |e| {
            e["sequence_number"].as_u64() == Some(after + 3)
        })
        .await,
    );
    // That instance dies mid-generation: its stream ends without completion.
    instances[other] = None;
    seen.extend(read(&mut second, |e| e["type"] == "response.completed").await);
    assert_ne!(
        seen.last().map(|e| e["type"].clone()),
        Some(Value::from("response.completed")),
        "the killed instance was serving the resumed stream"
    );

    // The client resumes again through the balancer: the living instance.
    let after = seen
        .last()
        .and_then(|e| e["sequence_number"].as_u64())
        .expect("a number");
    let mut third = LiveEvents::new(send(lb, resume(&id, after)).await);
    seen.extend(read(&mut third, |e| e["type"] == "response.completed").await);

    let sequences: Vec<u64> = seen
        .iter()
        .filter_map(|e| e["sequence_number"].as_u64())
        .collect();
    let expected: Vec<u64> = (0..sequences.len() as u64).collect();
    assert_eq!(sequences, expected, "every event once, in order");
    assert_eq!(deltas(&seen), format!("You said: {}", words.join(" ")));
    assert_eq!(
        seen.last().map(|e| e["type"].clone()),
        Some(Value::from("response.completed"))
    );
}
