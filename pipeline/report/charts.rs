//! Chart images (PNG and SVG) drawn with plotters from the same [`ChartSpec`] the workbook's
//! native chart is made from.
//!
//! In: a chart specification and the frame of the table it draws (any number of series; a
//! category without a value is a gap, never a zero). Out: a PNG and an SVG file, staged beside
//! the workbook.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::FontStyle;
use polars::prelude::{DataFrame, DataType};

use super::spec::{ChartKind, ChartSpec};
use crate::error::{Error, Result};

/// Where chart text fonts are looked for when the configuration names none.
const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

/// A chart's data as drawn: category labels and the series' values (and, for a scatter chart,
/// the categories as numbers along the horizontal axis).
struct Drawn<'a> {
    spec: &'a ChartSpec,
    categories: Vec<String>,
    x: Vec<Option<f64>>,
    series: Vec<Bars>,
}

/// One series; `None` is a category whose figure is unknown, drawn as no bar and a break in a
/// line (as Excel shows an empty cell), never as zero.
struct Bars {
    name: String,
    values: Vec<Option<f64>>,
    colour: RGBColor,
}

impl<'a> Drawn<'a> {
    /// The columns of `frame` that `spec` names, as labels and values.
    fn new(spec: &'a ChartSpec, frame: &DataFrame) -> std::result::Result<Drawn<'a>, String> {
        let text = frame
            .column(&spec.categories)
            .and_then(|c| c.cast(&DataType::String))
            .map_err(|e| e.to_string())?;
        let months = spec.category_format == "yyyy-mm";
        let categories = text
            .str()
            .map_err(|e| e.to_string())?
            .iter()
            .map(|c| {
                let c = c.unwrap_or_default();
                if months { c.get(..7).unwrap_or(c) } else { c }.to_string()
            })
            .collect();
        let x = if spec.kind == ChartKind::Scatter {
            let numbers = frame
                .column(&spec.categories)
                .and_then(|c| c.cast(&DataType::Float64))
                .map_err(|e| e.to_string())?;
            numbers.f64().map_err(|e| e.to_string())?.iter().collect()
        } else {
            Vec::new()
        };
        let mut series = Vec::with_capacity(spec.series.len());
        for s in &spec.series {
            let values = frame
                .column(&s.column)
                .and_then(|c| c.cast(&DataType::Float64))
                .map_err(|e| e.to_string())?;
            let values = values.f64().map_err(|e| e.to_string())?.iter().collect();
            let [_, r, g, b] = s.colour.to_be_bytes();
            series.push(Bars {
                name: s.name.clone(),
                values,
                colour: RGBColor(r, g, b),
            });
        }
        Ok(Drawn {
            spec,
            categories,
            x,
            series,
        })
    }
}

const WIDTH: u32 = 960;
const HEIGHT: u32 = 540;

/// Registers the chart font once per process; plotters keeps it for every later chart.
fn ensure_font(configured: Option<&Path>, chart: &Path) -> Result<()> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let candidates: Vec<PathBuf> = match configured {
                Some(p) => vec![p.to_path_buf()],
                None => FONT_CANDIDATES.iter().map(PathBuf::from).collect(),
            };
            let Some((path, bytes)) = candidates
                .iter()
                .find_map(|p| std::fs::read(p).ok().map(|b| (p, b)))
            else {
                let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
                return Err(format!(
                    "no TrueType font for chart text; set charts.font in the configuration (looked for {})",
                    tried.join(", ")
                ));
            };
            // plotters keeps registered fonts for the life of the process, so it wants them
            // 'static; this happens once.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
                .map_err(|_| format!("{} is not a usable TrueType font", path.display()))
        })
        .clone()
        .map_err(|message| Error::Chart {
            path: chart.to_path_buf(),
            message,
        })
}

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
    ensure_font(font, &png)?;
    let chart = Drawn::new(spec, frame).map_err(chart_error(&png))?;
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
    if chart.spec.kind == ChartKind::Scatter {
        return draw_scatter(chart, root);
    }
    let n = chart.categories.len();
    let known = || {
        chart
            .series
            .iter()
            .flat_map(|bars| bars.values.iter().flatten().copied())
    };
    let top = known().fold(0.0_f64, f64::max);
    let bottom = known().fold(0.0_f64, f64::min);
    let span = (top - bottom).max(1.0);
    let mut ctx = ChartBuilder::on(root)
        .caption(chart.spec.title.as_str(), ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(90)
        // Month i is centred on x = i, so the axis ticks at whole numbers sit under each group.
        .build_cartesian_2d(
            -0.5..n as f64 - 0.5,
            (bottom - 0.02 * span)..(top + 0.08 * span),
        )
        .map_err(err)?;
    let months = &chart.categories;
    ctx.configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() > 1e-6 || i < 0.0 {
                return String::new();
            }
            months.get(i as usize).cloned().unwrap_or_default()
        })
        .y_desc(chart.spec.value_label.as_str())
        .y_label_formatter(&|y| thousands(*y))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    match chart.spec.kind {
        ChartKind::Column => draw_columns(chart, &mut ctx).map_err(err)?,
        ChartKind::Line => draw_lines(chart, &mut ctx).map_err(err)?,
        ChartKind::Scatter => unreachable!("drawn by draw_scatter"),
    }
    ctx.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

type Plot<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

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

/// Lines with a marker at each point over a numeric horizontal axis (the frontier: best
/// objective by envelope); a point without a value breaks its line.
fn draw_scatter<DB: DrawingBackend>(
    chart: &Drawn,
    root: &DrawingArea<DB, plotters::coord::Shift>,
) -> std::result::Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let points = |bars: &Bars| -> Vec<Option<(f64, f64)>> {
        chart
            .x
            .iter()
            .zip(&bars.values)
            .map(|(x, y)| Some(((*x)?, (*y)?)))
            .collect()
    };
    let all: Vec<(f64, f64)> = chart.series.iter().flat_map(points).flatten().collect();
    let range = |pick: fn(&(f64, f64)) -> f64| {
        let low = all.iter().map(pick).fold(f64::INFINITY, f64::min);
        let high = all.iter().map(pick).fold(f64::NEG_INFINITY, f64::max);
        if low.is_finite() && high.is_finite() {
            let pad = ((high - low) * 0.06).max(high.abs().max(1.0) * 0.01);
            (low - pad)..(high + pad)
        } else {
            0.0..1.0
        }
    };
    let mut ctx = ChartBuilder::on(root)
        .caption(chart.spec.title.as_str(), ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(100)
        .build_cartesian_2d(range(|p| p.0), range(|p| p.1))
        .map_err(err)?;
    ctx.configure_mesh()
        .light_line_style(WHITE)
        .x_labels(8)
        .x_label_formatter(&|x| thousands(*x))
        .y_desc(chart.spec.value_label.as_str())
        .y_label_formatter(&|y| thousands(*y))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    for bars in &chart.series {
        let colour = bars.colour;
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for point in points(bars) {
            match point {
                Some(p) => runs.last_mut().map(|r| r.push(p)).unwrap_or(()),
                None => runs.push(Vec::new()),
            }
        }
        let mut labelled = false;
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            ctx.draw_series(run.iter().map(|p| Circle::new(*p, 4, colour.filled())))
                .map_err(err)?;
            let drawn = ctx
                .draw_series(LineSeries::new(run, colour.stroke_width(2)))
                .map_err(err)?;
            if !labelled {
                drawn.label(bars.name.as_str()).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 12, y)], colour.stroke_width(2))
                });
                labelled = true;
            }
        }
    }
    ctx.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
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
            series: vec![super::super::spec::SeriesSpec {
                column: "actual".into(),
                name: "Actual".into(),
                colour: 0x123456,
            }],
            category_format: "yyyy-mm".into(),
            value_format: "#,##0".into(),
            value_label: "EUR".into(),
            image: None,
        };
        let frame = DataFrame::new_infer_height(vec![
            Series::new("month".into(), ["2026-08-01", "2026-09-01", "2026-10-01"]).into_column(),
            Series::new("actual".into(), [Some(10.0), None, Some(5.0)]).into_column(),
        ])
        .unwrap();
        let chart = Drawn::new(&spec, &frame).unwrap();
        assert_eq!(chart.categories, ["2026-08", "2026-09", "2026-10"]);
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
            ensure_font(None, Path::new("t.png")).expect("a chart font (.ci/run installs one)");
            draw(&chart, &root).unwrap();
        }
        // Two bars and the legend's swatch; the unknown month draws nothing.
        assert_eq!(text.matches("fill=\"#123456\"").count(), 3, "{text}");
    }
}
