//! Chart images (PNG and SVG) drawn with plotters from the same [`ChartSpec`] the workbook's
//! native chart is made from.
//!
//! In: a chart specification and the frame of the table it draws (any number of series; a
//! category without a value is a gap, never a zero). Out: a PNG and an SVG file, staged beside
//! the workbook.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use polars::prelude::{DataFrame, DataType};

use super::spec::{ChartKind, ChartSpec};
use crate::error::{Error, Result};

/// A chart's data as drawn: category labels (none for bubbles and scatters, whose series hold
/// their horizontal positions) and the series' values.
struct Drawn<'a> {
    spec: &'a ChartSpec,
    /// The font family its text is drawn with.
    font: &'static str,
    categories: Vec<String>,
    series: Vec<Bars>,
}

/// One series; `None` is a category whose figure is unknown, drawn as no bar and a break in a
/// line (as Excel shows an empty cell), never as zero. Bubbles also have positions and sizes.
struct Bars {
    name: String,
    values: Vec<Option<f64>>,
    x: Vec<Option<f64>>,
    sizes: Vec<Option<f64>>,
    colour: RGBColor,
}

/// `frame`'s rows `rows` (all when `None`).
fn rows_of(frame: &DataFrame, rows: &Option<std::ops::Range<usize>>) -> DataFrame {
    match rows {
        Some(r) => frame.slice(r.start as i64, r.end.saturating_sub(r.start)),
        None => frame.clone(),
    }
}

/// A numeric column as floats.
fn numbers(frame: &DataFrame, column: &str) -> std::result::Result<Vec<Option<f64>>, String> {
    let values = frame
        .column(column)
        .and_then(|c| c.cast(&DataType::Float64))
        .map_err(|e| e.to_string())?;
    Ok(values.f64().map_err(|e| e.to_string())?.iter().collect())
}

impl<'a> Drawn<'a> {
    /// The columns of `frame` that `spec` names, as labels and values.
    fn new(spec: &'a ChartSpec, frame: &DataFrame) -> std::result::Result<Drawn<'a>, String> {
        let chart_rows = rows_of(frame, &spec.rows);
        let numeric = matches!(spec.kind, ChartKind::Bubble | ChartKind::Scatter);
        let categories = if numeric {
            Vec::new()
        } else {
            let text = chart_rows
                .column(&spec.categories)
                .and_then(|c| c.cast(&DataType::String))
                .map_err(|e| e.to_string())?;
            let months = spec.category_format == "yyyy-mm";
            text.str()
                .map_err(|e| e.to_string())?
                .iter()
                .map(|c| {
                    let c = c.unwrap_or_default();
                    if months { c.get(..7).unwrap_or(c) } else { c }.to_string()
                })
                .collect()
        };
        let mut series = Vec::with_capacity(spec.series.len());
        for s in &spec.series {
            let own = s.rows.as_ref().map(|_| rows_of(frame, &s.rows));
            let rows = own.as_ref().unwrap_or(&chart_rows);
            let [_, r, g, b] = s.colour.to_be_bytes();
            series.push(Bars {
                name: s.name.clone(),
                values: numbers(rows, &s.column)?,
                x: match (&s.x, spec.kind) {
                    (Some(x), _) => numbers(rows, x)?,
                    // A scatter's categories are its horizontal positions.
                    (None, ChartKind::Scatter) => numbers(rows, &spec.categories)?,
                    (None, _) => Vec::new(),
                },
                sizes: s
                    .size
                    .as_ref()
                    .map_or(Ok(Vec::new()), |x| numbers(rows, x))?,
                colour: RGBColor(r, g, b),
            });
        }
        Ok(Drawn {
            spec,
            font: "sans-serif",
            categories,
            series,
        })
    }

    /// The values the vertical axis must reach: stacked for areas.
    fn extent(&self) -> (f64, f64) {
        let values: Vec<f64> = match self.spec.kind {
            ChartKind::AreaStacked => (0..self.categories.len())
                .map(|i| {
                    self.series
                        .iter()
                        .map(|s| s.values.get(i).copied().flatten().unwrap_or(0.0))
                        .sum()
                })
                .collect(),
            _ => self
                .series
                .iter()
                .flat_map(|s| s.values.iter().flatten().copied())
                .collect(),
        };
        let top = values.iter().copied().fold(0.0_f64, f64::max);
        let bottom = values.iter().copied().fold(0.0_f64, f64::min);
        (bottom, top)
    }
}

const WIDTH: u32 = 960;
const HEIGHT: u32 = 540;

/// Draws `spec` from the rows of `frame` and stages it as `<image>.png` and `.svg` in the pack's
/// folder; returns where the two will be (none when the chart has no image).
///
/// # Errors
///
/// [`Error::Chart`] when no font is found, the frame lacks a column, or drawing fails;
/// [`Error::Output`] when a file cannot be written.
pub fn stage_images(
    spec: &ChartSpec,
    frame: &DataFrame,
    staged: &mut super::Staged,
    font: Option<&Path>,
) -> Result<Vec<PathBuf>> {
    let Some(stem) = &spec.image else {
        return Ok(Vec::new());
    };
    let (png_name, svg_name) = (format!("{stem}.png"), format!("{stem}.svg"));
    let png = staged.target(&png_name);
    let svg = staged.target(&svg_name);
    let chart_error = |path: &Path| {
        let path = path.to_path_buf();
        move |message| Error::Chart { path, message }
    };
    let mut chart = Drawn::new(spec, frame).map_err(chart_error(&png))?;
    let mut texts: Vec<&str> = vec![spec.title.as_str(), spec.value_label.as_str()];
    texts.extend(spec.category_label.as_deref());
    texts.extend(chart.categories.iter().map(String::as_str));
    texts.extend(chart.series.iter().map(|s| s.name.as_str()));
    let (family, left) = super::fonts::family_for(font, &texts).map_err(chart_error(&png))?;
    if !left.is_empty() {
        tracing::warn!(chart = %png.display(), "{}", super::fonts::advice(&left));
    }
    chart.font = family;
    let mut drawn: std::result::Result<(), String> = Ok(());
    staged.write_with(&png_name, |path| {
        let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
        drawn = draw(&chart, &root);
        Ok(())
    })?;
    drawn.map_err(chart_error(&png))?;

    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&chart, &root).map_err(chart_error(&svg))?;
    }
    staged.write(&svg_name, text.as_bytes())?;
    Ok(vec![png, svg])
}

fn draw<DB: DrawingBackend>(
    chart: &Drawn,
    root: &DrawingArea<DB, plotters::coord::Shift>,
) -> std::result::Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    match chart.spec.kind {
        ChartKind::Bubble | ChartKind::Scatter => draw_bubbles(chart, root).map_err(err)?,
        ChartKind::Bar => draw_bars(chart, root).map_err(err)?,
        _ => draw_by_category(chart, root).map_err(err)?,
    }
    root.present().map_err(err)
}

type Plot<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Columns, lines, stacked areas and ranges: the categories along the horizontal axis.
fn draw_by_category<DB: DrawingBackend>(
    chart: &Drawn,
    root: &DrawingArea<DB, plotters::coord::Shift>,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB::ErrorType: 'static,
{
    let n = chart.categories.len();
    let (bottom, top) = chart.extent();
    let span = (top - bottom).max(1.0);
    let mut ctx = ChartBuilder::on(root)
        .caption(chart.spec.title.as_str(), (chart.font, 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(90)
        // Category i is centred on x = i, so the axis ticks at whole numbers sit under each.
        .build_cartesian_2d(
            -0.5..n as f64 - 0.5,
            (bottom - 0.02 * span)..(top + 0.08 * span),
        )?;
    let labels = &chart.categories;
    ctx.configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_labels(n.min(24))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() > 1e-6 || i < 0.0 {
                return String::new();
            }
            labels.get(i as usize).cloned().unwrap_or_default()
        })
        .y_desc(chart.spec.value_label.as_str())
        .y_label_formatter(&|y| axis_number(*y, &chart.spec.value_format))
        .label_style((chart.font, 14))
        .draw()?;
    match chart.spec.kind {
        ChartKind::Line => draw_lines(chart, &mut ctx)?,
        ChartKind::AreaStacked => draw_areas(chart, &mut ctx)?,
        ChartKind::Range => draw_ranges(chart, &mut ctx)?,
        _ => draw_columns(chart, &mut ctx)?,
    }
    legend(&mut ctx, chart.font)
}

fn legend<'a, DB: DrawingBackend + 'a>(
    ctx: &mut Plot<'a, DB>,
    font: &'static str,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB::ErrorType: 'static,
{
    ctx.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((font, 14))
        .draw()
}

/// A group of bars per category; the group spans 0.76 of each category, whatever the number of
/// series.
fn draw_columns<DB: DrawingBackend>(
    chart: &Drawn,
    ctx: &mut Plot<'_, DB>,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let count = chart.series.len().max(1) as f64;
    let width = 0.76 / count;
    for (s, bars) in chart.series.iter().enumerate() {
        let offset = -0.38 + s as f64 * width;
        let colour = bars.colour;
        ctx.draw_series(bars.values.iter().enumerate().filter_map(|(i, v)| {
            let v = (*v)?;
            let x0 = i as f64 + offset;
            Some(Rectangle::new(
                [(x0, 0.0), (x0 + width, v)],
                colour.filled(),
            ))
        }))?
        .label(bars.name.as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], colour.filled()));
    }
    Ok(())
}

/// A line per series, broken where a category has no value.
fn draw_lines<DB: DrawingBackend>(
    chart: &Drawn,
    ctx: &mut Plot<'_, DB>,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for bars in &chart.series {
        let colour = bars.colour;
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (i, v) in bars.values.iter().enumerate() {
            match v {
                Some(v) => runs
                    .last_mut()
                    .map(|r| r.push((i as f64, *v)))
                    .unwrap_or(()),
                None => runs.push(Vec::new()),
            }
        }
        let mut labelled = false;
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            let drawn = ctx.draw_series(LineSeries::new(run, colour.stroke_width(2)))?;
            if !labelled {
                drawn.label(bars.name.as_str()).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 12, y)], colour.stroke_width(2))
                });
                labelled = true;
            }
        }
    }
    Ok(())
}

/// Areas stacked in series order, the first at the bottom; an unknown value stacks as nothing.
fn draw_areas<DB: DrawingBackend>(
    chart: &Drawn,
    ctx: &mut Plot<'_, DB>,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let n = chart.categories.len();
    let mut below = vec![0.0; n];
    for bars in &chart.series {
        let above: Vec<f64> = (0..n)
            .map(|i| below[i] + bars.values.get(i).copied().flatten().unwrap_or(0.0))
            .collect();
        let mut outline: Vec<(f64, f64)> = (0..n).map(|i| (i as f64, above[i])).collect();
        outline.extend((0..n).rev().map(|i| (i as f64, below[i])));
        let colour = bars.colour;
        ctx.draw_series(std::iter::once(Polygon::new(
            outline,
            colour.mix(0.85).filled(),
        )))?
        .label(bars.name.as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], colour.filled()));
        below = above;
    }
    Ok(())
}

/// Per category a line from the first series to the third, the second marked on it.
fn draw_ranges<DB: DrawingBackend>(
    chart: &Drawn,
    ctx: &mut Plot<'_, DB>,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let [low, mid, high] = [0, 1, 2].map(|k| chart.series.get(k));
    let (Some(low), Some(mid), Some(high)) = (low, mid, high) else {
        return Ok(());
    };
    let colour = mid.colour;
    ctx.draw_series((0..chart.categories.len()).filter_map(|i| {
        let (l, h) = (low.values.get(i).copied()??, high.values.get(i).copied()??);
        Some(PathElement::new(
            [(i as f64, l), (i as f64, h)],
            low.colour.stroke_width(6),
        ))
    }))?
    .label(format!("{} – {}", low.name, high.name))
    .legend(move |(x, y)| {
        Rectangle::new(
            [(x, y - 3), (x + 12, y + 3)],
            RGBColor(0xa5, 0xa5, 0xa5).filled(),
        )
    });
    ctx.draw_series((0..chart.categories.len()).filter_map(|i| {
        let m = mid.values.get(i).copied()??;
        Some(Circle::new((i as f64, m), 6, colour.filled()))
    }))?
    .label(mid.name.as_str())
    .legend(move |(x, y)| Circle::new((x + 6, y), 5, colour.filled()));
    Ok(())
}

/// Horizontal bars, the first category on top.
fn draw_bars<DB: DrawingBackend>(
    chart: &Drawn,
    root: &DrawingArea<DB, plotters::coord::Shift>,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB::ErrorType: 'static,
{
    let n = chart.categories.len();
    let (left, right) = chart.extent();
    let span = (right - left).max(1e-9);
    let mut ctx = ChartBuilder::on(root)
        .caption(chart.spec.title.as_str(), (chart.font, 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(160)
        .build_cartesian_2d(
            (left - 0.02 * span)..(right + 0.08 * span),
            -0.5..n as f64 - 0.5,
        )?;
    let labels = &chart.categories;
    ctx.configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .y_labels(n.min(40))
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() > 1e-6 || i < 0.0 {
                return String::new();
            }
            // Category 0 is drawn at the top.
            labels
                .get(n.saturating_sub(1 + i as usize))
                .cloned()
                .unwrap_or_default()
        })
        .x_desc(chart.spec.value_label.as_str())
        .x_label_formatter(&|x| axis_number(*x, &chart.spec.value_format))
        .label_style((chart.font, 14))
        .draw()?;
    let count = chart.series.len().max(1) as f64;
    let height = 0.76 / count;
    for (s, bars) in chart.series.iter().enumerate() {
        let offset = 0.38 - (s as f64 + 1.0) * height;
        let colour = bars.colour;
        ctx.draw_series(bars.values.iter().enumerate().filter_map(|(i, v)| {
            let v = (*v)?;
            let y0 = (n - 1 - i) as f64 + offset;
            Some(Rectangle::new(
                [(0.0, y0), (v, y0 + height)],
                colour.filled(),
            ))
        }))?
        .label(bars.name.as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], colour.filled()));
    }
    legend(&mut ctx, chart.font)
}

/// Bubbles: x and y from the series' columns, the area proportional to the size column; a
/// scatter draws its points joined by a line instead.
fn draw_bubbles<DB: DrawingBackend>(
    chart: &Drawn,
    root: &DrawingArea<DB, plotters::coord::Shift>,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB::ErrorType: 'static,
{
    let points = || {
        chart.series.iter().flat_map(|s| {
            s.x.iter()
                .zip(&s.values)
                .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
        })
    };
    let extent = |pick: fn(&(f64, f64)) -> f64| {
        points()
            .map(|p| pick(&p))
            .fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)))
    };
    let (x0, x1) = extent(|p| p.0);
    let (y0, y1) = extent(|p| p.1);
    let (xs, ys) = ((x1 - x0).max(1.0), (y1 - y0).max(1.0));
    let biggest = chart
        .series
        .iter()
        .flat_map(|s| s.sizes.iter().flatten().copied())
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let mut ctx = ChartBuilder::on(root)
        .caption(chart.spec.title.as_str(), (chart.font, 24))
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(90)
        .build_cartesian_2d(
            (x0 - 0.05 * xs)..(x1 + 0.08 * xs),
            (y0 - 0.08 * ys)..(y1 + 0.08 * ys),
        )?;
    ctx.configure_mesh()
        .light_line_style(WHITE)
        .x_desc(chart.spec.category_label.clone().unwrap_or_default())
        .y_desc(chart.spec.value_label.as_str())
        .x_label_formatter(&|x| axis_number(*x, &chart.spec.category_format))
        .y_label_formatter(&|y| axis_number(*y, &chart.spec.value_format))
        .label_style((chart.font, 14))
        .draw()?;
    for bubbles in &chart.series {
        let colour = bubbles.colour;
        if chart.spec.kind == ChartKind::Scatter {
            let points: Vec<(f64, f64)> = bubbles
                .x
                .iter()
                .zip(&bubbles.values)
                .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
                .collect();
            ctx.draw_series(points.iter().map(|p| Circle::new(*p, 4, colour.filled())))?;
            ctx.draw_series(LineSeries::new(points, colour.stroke_width(2)))?
                .label(bubbles.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 12, y)], colour.stroke_width(2))
                });
            continue;
        }
        ctx.draw_series(
            bubbles
                .x
                .iter()
                .zip(&bubbles.values)
                .enumerate()
                .filter_map(|(i, (x, y))| {
                    let size = bubbles
                        .sizes
                        .get(i)
                        .copied()
                        .flatten()
                        .unwrap_or(0.0)
                        .max(0.0);
                    // The bubble's area, not its radius, follows the size, as Excel draws them.
                    let radius = (4.0 + 26.0 * (size / biggest).sqrt()) as i32;
                    Some(Circle::new(
                        ((*x)?, (*y)?),
                        radius,
                        colour.mix(0.6).filled(),
                    ))
                }),
        )?
        .label(bubbles.name.as_str())
        .legend(move |(x, y)| Circle::new((x + 6, y), 5, colour.filled()));
    }
    legend(&mut ctx, chart.font)
}

/// An axis label: whole units with thousands separators, or a percentage for `0%` formats.
fn axis_number(value: f64, format: &str) -> String {
    if format.contains('%') {
        format!("{:.0}%", value * 100.0)
    } else if format.contains("0.0") && value.abs() < 1000.0 {
        format!("{value:.1}")
    } else {
        thousands(value)
    }
}

/// 1234567.8 as "1,234,568": chart axes show whole units.
fn thousands(value: f64) -> String {
    crate::format::group_thousands(value.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_group_thousands() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1234567.8), "1,234,568");
        assert_eq!(thousands(-1500.0), "-1,500");
    }

    #[test]
    fn an_unknown_month_is_a_gap_in_the_image_not_a_zero_bar() {
        use polars::prelude::{IntoColumn, NamedFrom, Series};
        let spec = ChartSpec {
            title: "t".into(),
            kind: ChartKind::Column,
            table: "T".into(),
            categories: "month".into(),
            rows: None,
            series: vec![super::super::spec::SeriesSpec::new(
                "actual", "Actual", 0x123456,
            )],
            category_format: "yyyy-mm".into(),
            category_label: None,
            value_format: "#,##0".into(),
            value_label: "EUR".into(),
            image: None,
        };
        let frame = DataFrame::new_infer_height(vec![
            Series::new("month".into(), ["2026-08-01", "2026-09-01", "2026-10-01"]).into_column(),
            Series::new("actual".into(), [Some(10.0), None, Some(5.0)]).into_column(),
        ])
        .unwrap();
        let mut chart = Drawn::new(&spec, &frame).unwrap();
        assert_eq!(chart.categories, ["2026-08", "2026-09", "2026-10"]);
        // The compiled-in fonts, as a run registers them: the machine may have none installed.
        chart.font = super::super::fonts::family_for(None, &["t", "EUR"])
            .unwrap()
            .0;
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
            draw(&chart, &root).unwrap();
        }
        // Two bars and the legend's swatch; the unknown month draws nothing.
        assert_eq!(text.matches("fill=\"#123456\"").count(), 3, "{text}");
    }
}
