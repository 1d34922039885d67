//! `bench --idle-curve`: server memory per idle event stream against the
//! number of streams, for every server, drawn to an SVG.

use std::path::Path;

use plotters::prelude::{
    BLACK, BLUE, ChartBuilder, Circle, Color, IntoDrawingArea, LineSeries, PathElement, RED,
    RGBColor, SVGBackend, SeriesLabelPosition, WHITE,
};

use crate::idle_memory;

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
    let max_x = *counts.last().unwrap_or(&1) as f64 * 1.05;
    let max_y = curves.iter().flatten().fold(0.0f64, |m, &v| m.max(v)) / 1024.0 * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Server memory per idle SSE stream (HTTP/1.1)",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..max_x, 0.0..max_y)?;
    chart
        .configure_mesh()
        .x_desc("open idle streams")
        .y_desc("RSS per stream, KiB")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    let colors = [BLACK, RED, BLUE, RGBColor(0, 140, 60)];
    for ((curve, (_, label)), color) in curves.iter().zip(SERVERS).zip(colors) {
        let points: Vec<(f64, f64)> = counts
            .iter()
            .zip(curve)
            .map(|(&n, &bytes)| (n as f64, bytes / 1024.0))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
