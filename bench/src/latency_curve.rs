//! `bench --latency-curve`: p50 and p99 delivery latency of a paced fan-out
//! against the number of subscribers (1k, 5k, 10k, 20k or what the descriptor
//! limit allows), for raw hyper on `http1`, axum and justsse, drawn to an SVG.
//! (justsse refuses connections that would leave less than a tenth of the
//! descriptors free, so the largest size stays under that for all three.)
//! The load is 100,000 deliveries a second at every size (100 events/s to
//! 1,000 subscribers, 10/s to 10,000), as the guard's two fan-outs; with
//! `--app`, on the tickets app as each framework's users write it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use plotters::prelude::{
    BLACK, BLUE, IntoDrawingArea, RED, SVGBackend, SeriesLabelPosition, WHITE,
};

use crate::guard::paced;
use crate::idle_curve::{counts_under, descriptor_limit};
use crate::plot;
use crate::{spawn_server, wait_for};

const SERVERS: [(&str, &str); 3] = [
    ("hyper-http1", "raw hyper, conn::http1"),
    ("axum", "axum 0.8"),
    ("justsse", "justsse"),
];

/// Deliveries a second at every size.
const DELIVERIES_PER_S: u64 = 100_000;

/// `[server][count] = (p50, p99)` in ms, medians of `runs`.
type Curves = Vec<Vec<(f64, f64)>>;

/// One of a point's two quantiles.
type Pick = fn(&(f64, f64)) -> f64;

pub(crate) async fn run(runs: usize, out: &Path) -> std::io::Result<()> {
    // Under the limit, with room for the publishing connection: justsse
    // keeps a tenth of the descriptors (at most 1,024) free and accepts no
    // connection past that.
    let limit = descriptor_limit();
    let counts = counts_under(limit.saturating_sub((limit / 10).clamp(64, 1024) + 512));
    let mut curves: Curves = vec![Vec::new(); SERVERS.len()];
    for (s, (name, _)) in SERVERS.iter().enumerate() {
        for &count in &counts {
            let mut p50s = Vec::new();
            let mut p99s = Vec::new();
            for _ in 0..runs.max(1) {
                // A fresh server per point: no earlier size's state.
                let port = 3600 + s as u16;
                let mut server = spawn_server(name, port)?;
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                wait_for(addr).await;
                let per_second = (DELIVERIES_PER_S / count as u64).max(1);
                let measured = paced(addr, server.id(), count, per_second, 4).await;
                let _ = server.kill();
                let _ = server.wait();
                tokio::time::sleep(Duration::from_millis(300)).await;
                p50s.push(measured.p50_ms);
                p99s.push(measured.p99_ms);
            }
            p50s.sort_by(f64::total_cmp);
            p99s.sort_by(f64::total_cmp);
            let point = (p50s[p50s.len() / 2], p99s[p99s.len() / 2]);
            eprintln!(
                "  {name} at {count}: p50 {:.1} ms, p99 {:.1} ms",
                point.0, point.1
            );
            curves[s].push(point);
        }
    }
    print!("| subscribers (events/s each) |");
    for (_, label) in SERVERS {
        print!(" {label} p50 / p99 ms |");
    }
    println!("\n| ---: |{}", " ---: |".repeat(SERVERS.len()));
    for (i, count) in counts.iter().enumerate() {
        print!("| {count} ({}/s) |", DELIVERIES_PER_S / *count as u64);
        for curve in &curves {
            print!(" {:.1} / {:.1} |", curve[i].0, curve[i].1);
        }
        println!();
    }
    plot(&counts, &curves, out).map_err(|err| std::io::Error::other(err.to_string()))?;
    println!("\nplot: {}", out.display());
    Ok(())
}

fn plot(counts: &[usize], curves: &Curves, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(out, (960, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(480);
    let colors = [BLACK, BLUE, RED];
    let quantiles: [(&str, Pick); 2] = [
        ("p50 delivery latency", |p| p.0),
        ("p99 delivery latency", |p| p.1),
    ];
    for (area, (title, pick)) in [left, right].iter().zip(quantiles) {
        let labels = SERVERS.iter().map(|(_, label)| *label);
        let series = plot::series(counts, curves, labels, &colors, pick);
        plot::curves(
            area,
            &format!("{title}, 100,000 deliveries/s"),
            ("subscribers", "ms"),
            &series,
            SeriesLabelPosition::UpperLeft,
        )?;
    }
    root.present()?;
    Ok(())
}
