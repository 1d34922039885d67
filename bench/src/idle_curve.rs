//! `bench --idle-curve`: server memory per idle event stream against the
//! number of streams, for every server, drawn to an SVG.

use std::path::Path;

use plotters::prelude::{
    BLACK, BLUE, IntoDrawingArea, RED, RGBColor, SVGBackend, SeriesLabelPosition, WHITE,
};

use crate::idle_memory;
use crate::plot;

const SERVERS: [(&str, &str); 4] = [
    ("hyper-http1", "raw hyper, conn::http1 (the floor)"),
    ("hyper", "raw hyper, auto builder"),
    ("axum", "axum 0.8"),
    ("justsse", "justsse"),
];

/// The stream counts to measure: 1k, 5k, 10k and 20k, those a process may
/// hold here (each stream is one descriptor in the server and one in this
/// client; `RLIMIT_NOFILE` caps both).
pub(crate) fn counts() -> Vec<usize> {
    counts_under(descriptor_limit().saturating_sub(512))
}

/// This process's descriptor limit (the servers inherit it).
pub(crate) fn descriptor_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(3)?.parse::<usize>().ok()
        })
        .unwrap_or(1024)
}

/// 1k, 5k, 10k and 20k, or the most under `room` in place of 20k.
pub(crate) fn counts_under(room: usize) -> Vec<usize> {
    let limit = descriptor_limit();
    let mut counts: Vec<usize> = [1_000, 5_000, 10_000, 20_000]
        .into_iter()
        .filter(|&n| n <= room)
        .collect();
    if counts.last() != Some(&20_000) && room > 10_000 {
        let most = room / 500 * 500;
        eprintln!("20,000 streams exceed the descriptor limit ({limit}); measuring {most}");
        counts.push(most);
    }
    counts
}

/// Measures each server at each count `runs` times (median), prints the
/// table and writes the plot to `out`.
pub(crate) async fn run(runs: usize, out: &Path) -> std::io::Result<()> {
    let counts = counts();
    let mut curves: Vec<Vec<f64>> = Vec::new();
    for (s, (name, _)) in SERVERS.iter().enumerate() {
        let mut curve = Vec::new();
        for &count in &counts {
            let mut values = Vec::new();
            for _ in 0..runs.max(1) {
                values.push(idle_memory(name, 3500 + s as u16, count).await?);
            }
            values.sort_by(f64::total_cmp);
            eprintln!("  {name} at {count}: {values:.0?} bytes per stream");
            curve.push(values[values.len() / 2]);
        }
        curves.push(curve);
    }
    print!("| streams |");
    for (_, label) in SERVERS {
        print!(" {label} |");
    }
    println!("\n| ---: |{}", " ---: |".repeat(SERVERS.len()));
    for (i, count) in counts.iter().enumerate() {
        print!("| {count} |");
        for curve in &curves {
            print!(" {:.0} |", curve[i]);
        }
        println!();
    }
    plot(&counts, &curves, out).map_err(|err| std::io::Error::other(err.to_string()))?;
    println!("\nplot: {}", out.display());
    Ok(())
}

fn plot(
    counts: &[usize],
    curves: &[Vec<f64>],
    out: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(out, (720, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let colors = [BLACK, RED, BLUE, RGBColor(0, 140, 60)];
    let labels = SERVERS.iter().map(|(_, label)| *label);
    let series = plot::series(counts, curves, labels, &colors, |bytes| bytes / 1024.0);
    plot::curves(
        &root,
        "Server memory per idle SSE stream (HTTP/1.1)",
        ("open idle streams", "RSS per stream, KiB"),
        &series,
        SeriesLabelPosition::LowerRight,
    )?;
    root.present()?;
    Ok(())
}
