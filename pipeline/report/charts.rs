//! Chart images (PNG and SVG) drawn with plotters, the same charts the workbook holds natively.
//!
//! In: a chart's data (months and two series). Out: a PNG and an SVG file, each written to a
//! temporary file beside its destination and renamed into place.

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

/// A grouped column chart of two series over months.
pub struct ColumnChart<'a> {
    pub title: &'a str,
    pub months: &'a [String],
    pub series: [(&'a str, &'a [f64], RGBColor); 2],
    pub y_label: &'a str,
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

/// Draws `chart` to `png` and `svg`, atomically.
///
/// # Errors
///
/// [`Error::Chart`] when no font is found or drawing fails; [`Error::Output`] when a file cannot
/// be written.
pub fn write_column_chart(
    chart: &ColumnChart,
    png: &Path,
    svg: &Path,
    font: Option<&Path>,
) -> Result<()> {
    ensure_font(font, png)?;
    let dir = png.parent().unwrap_or(Path::new("."));
    let temp = super::temp_builder(".chart-", ".png")
        .tempfile_in(dir)
        .map_err(|e| Error::Output {
            path: png.to_path_buf(),
            source: e,
        })?;
    {
        let root = BitMapBackend::new(temp.path(), (WIDTH, HEIGHT)).into_drawing_area();
        draw(chart, &root).map_err(|message| Error::Chart {
            path: png.to_path_buf(),
            message,
        })?;
    }
    temp.persist(png).map_err(|e| Error::Output {
        path: png.to_path_buf(),
        source: e.error,
    })?;

    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        draw(chart, &root).map_err(|message| Error::Chart {
            path: svg.to_path_buf(),
            message,
        })?;
    }
    super::write_atomically(svg, text.as_bytes())
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
    let top = chart
        .series
        .iter()
        .flat_map(|(_, values, _)| values.iter().copied())
        .fold(0.0_f64, f64::max);
    let bottom = chart
        .series
        .iter()
        .flat_map(|(_, values, _)| values.iter().copied())
        .fold(0.0_f64, f64::min);
    let span = (top - bottom).max(1.0);
    let mut ctx = ChartBuilder::on(root)
        .caption(chart.title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(90)
        // Month i is centred on x = i, so the axis ticks at whole numbers sit under each group.
        .build_cartesian_2d(
            -0.5..n as f64 - 0.5,
            (bottom - 0.02 * span)..(top + 0.08 * span),
        )
        .map_err(err)?;
    let months = chart.months;
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
        .y_desc(chart.y_label)
        .y_label_formatter(&|y| thousands(*y))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    let width = 0.38;
    for (s, (name, values, colour)) in chart.series.iter().enumerate() {
        let offset = -width + s as f64 * width;
        let colour = *colour;
        ctx.draw_series(values.iter().enumerate().map(|(i, v)| {
            let x0 = i as f64 + offset;
            Rectangle::new([(x0, 0.0), (x0 + width, *v)], colour.filled())
        }))
        .map_err(err)?
        .label(*name)
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
    use super::thousands;

    #[test]
    fn axis_labels_group_thousands() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1234567.8), "1,234,568");
        assert_eq!(thousands(-1500.0), "-1,500");
    }
}
