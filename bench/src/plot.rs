//! The benches' charts: curves of measured points, one line with dots per
//! server, labelled, in one drawing area of an SVG.

use plotters::coord::Shift;
use plotters::prelude::{
    BLACK, ChartBuilder, Circle, Color, DrawingArea, LineSeries, PathElement, RGBColor, SVGBackend,
    SeriesLabelPosition, WHITE,
};

/// One curve: its label, colour and points.
pub(crate) type Series<'a> = (&'a str, RGBColor, Vec<(f64, f64)>);

/// One series per server: its label and colour, and a point per count, of
/// the value `y` reads from its measure there.
pub(crate) fn series<'a, T>(
    counts: &[usize],
    curves: &[Vec<T>],
    labels: impl IntoIterator<Item = &'a str>,
    colors: &[RGBColor],
    y: impl Fn(&T) -> f64,
) -> Vec<Series<'a>> {
    curves
        .iter()
        .zip(labels)
        .zip(colors)
        .map(|((curve, label), &color)| {
            let points = counts
                .iter()
                .zip(curve)
                .map(|(&n, measure)| (n as f64, y(measure)))
                .collect();
            (label, color, points)
        })
        .collect()
}

/// Draws `series` in `area` with axes from zero to a little over the
/// largest point.
pub(crate) fn curves(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    caption: &str,
    (x_desc, y_desc): (&str, &str),
    series: &[Series<'_>],
    legend: SeriesLabelPosition,
) -> Result<(), Box<dyn std::error::Error>> {
    let points = || series.iter().flat_map(|(_, _, points)| points);
    let max_x = points().map(|p| p.0).fold(1.0f64, f64::max) * 1.05;
    let max_y = points().map(|p| p.1).fold(1.0f64, f64::max) * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..max_x, 0.0..max_y)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    for (label, color, points) in series {
        let color = *color;
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(*label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
