//! `bench --shutdown`: how long a server takes to shut down with 10,000 open
//! event streams, from the signal to its exit, against its grace period, and
//! whether every client saw its stream end.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use crate::{spawn_server, subscribe, wait_for};

/// The default `shutdown_grace` of the servers measured.
const GRACE: Duration = Duration::from_secs(10);

pub(crate) async fn run(streams: usize) -> std::io::Result<()> {
    let port = 3600;
    let mut server = spawn_server("justsse", port)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for(addr).await;
    let open = subscribe(addr, streams, Arc::new(AtomicU64::new(0))).await;
    eprintln!(
        "{streams} streams open in {:.2} s; sending SIGTERM",
        open.connected_in.as_secs_f64()
    );
    let signalled = Instant::now();
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()?;
    let exited = tokio::task::spawn_blocking(move || server.wait())
        .await
        .map_err(std::io::Error::other)??;
    let exit_after = signalled.elapsed();
    let mut ended = 0;
    for task in open.tasks {
        // Each client task returns when its stream ends (the connection closed).
        if tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .is_ok()
        {
            ended += 1;
        }
    }
    let all_ended_after = signalled.elapsed();
    println!(
        "| streams | exit after signal, s | every client saw its stream end, s | grace + 1 s | status |"
    );
    println!("| ---: | ---: | ---: | ---: | --- |");
    println!(
        "| {streams} | {:.3} | {:.3} ({ended} of {streams}) | {:.0} | {} |",
        exit_after.as_secs_f64(),
        all_ended_after.as_secs_f64(),
        (GRACE + Duration::from_secs(1)).as_secs_f64(),
        exited
    );
    Ok(())
}
