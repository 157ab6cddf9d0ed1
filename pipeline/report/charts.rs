//! Chart images (PNG and SVG) drawn with plotters, the same charts the workbook holds natively.
//!
//! In: a chart's data (months and any number of series, a month without a value left as a gap).
//! Out: a PNG and an SVG file, staged beside their destinations.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::FontStyle;

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

/// A grouped column chart of series over months.
pub struct ColumnChart {
    pub title: String,
    pub months: Vec<String>,
    pub series: Vec<Bars>,
    pub y_label: String,
}

/// One series of bars; `None` is a month whose figure is unknown, drawn as no bar (as Excel
/// shows an empty cell), never as zero.
pub struct Bars {
    pub name: String,
    pub values: Vec<Option<f64>>,
    pub colour: RGBColor,
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

/// Draws `chart` and stages it as `png` and `svg`.
///
/// # Errors
///
/// [`Error::Chart`] when no font is found or drawing fails; [`Error::Output`] when a file cannot
/// be written.
pub fn stage_column_chart(
    chart: &ColumnChart,
    staged: &mut super::Staged,
    run_id: &str,
    png: &Path,
    svg: &Path,
    font: Option<&Path>,
) -> Result<()> {
    ensure_font(font, png)?;
    let mut drawn: std::result::Result<(), String> = Ok(());
    staged.write_with(run_id, png, |path| {
        let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
        drawn = draw(chart, &root);
        Ok(())
    })?;
    drawn.map_err(|message| Error::Chart {
        path: png.to_path_buf(),
        message,
    })?;

    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        draw(chart, &root).map_err(|message| Error::Chart {
            path: svg.to_path_buf(),
            message,
        })?;
    }
    staged.write(run_id, svg, text.as_bytes())
}

fn draw<DB: DrawingBackend>(
    chart: &ColumnChart,
    root: &DrawingArea<DB, plotters::coord::Shift>,
) -> std::result::Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let n = chart.months.len();
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
        .caption(chart.title.as_str(), ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(90)
        // Month i is centred on x = i, so the axis ticks at whole numbers sit under each group.
        .build_cartesian_2d(
            -0.5..n as f64 - 0.5,
            (bottom - 0.02 * span)..(top + 0.08 * span),
        )
        .map_err(err)?;
    let months = &chart.months;
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
        .y_desc(chart.y_label.as_str())
        .y_label_formatter(&|y| thousands(*y))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    // The group of bars spans 0.76 of each month, whatever the number of series.
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
        }))
        .map_err(err)?
        .label(bars.name.as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], colour.filled()));
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
        let chart = ColumnChart {
            title: "t".into(),
            months: vec!["2026-08".into(), "2026-09".into(), "2026-10".into()],
            series: vec![Bars {
                name: "Actual".into(),
                values: vec![Some(10.0), None, Some(5.0)],
                colour: RGBColor(0x12, 0x34, 0x56),
            }],
            y_label: "EUR".into(),
        };
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
