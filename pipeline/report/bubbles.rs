//! Bubble charts in the saved workbook. rust_xlsxwriter has no bubble chart type (its issue #98),
//! so a bubble chart is written as a scatter chart and its chart part is rewritten here into
//! OOXML's `c:bubbleChart`: each listed series gains its `c:bubbleSize` range and loses its
//! scatter marker, and the chart its bubble settings. Everything else in the package is copied
//! byte for byte.
//!
//! In: the xlsx bytes and the [`BubbleSizes`] the sheets recorded. Out: the finished xlsx bytes.

use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::spec::BubbleSizes;

/// Rewrites the chart parts holding the series of `bubbles` as bubble charts.
///
/// # Errors
///
/// A message when the package cannot be read or written back (a defect: it was just written).
pub fn finish(xlsx: Vec<u8>, bubbles: &[BubbleSizes]) -> Result<Vec<u8>, String> {
    if bubbles.is_empty() {
        return Ok(xlsx);
    }
    let mut archive = ZipArchive::new(Cursor::new(xlsx)).map_err(|e| e.to_string())?;
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let name = archive
            .by_index_raw(i)
            .map_err(|e| e.to_string())?
            .name()
            .map_err(|e| e.to_string())?
            .to_string();
        let rewritten = if name.starts_with("xl/charts/chart") && name.ends_with(".xml") {
            let mut xml = String::new();
            archive
                .by_index(i)
                .map_err(|e| e.to_string())?
                .read_to_string(&mut xml)
                .map_err(|e| e.to_string())?;
            as_bubbles(&xml, bubbles)
        } else {
            None
        };
        match rewritten {
            Some(xml) => {
                let options =
                    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
                out.start_file(name, options).map_err(|e| e.to_string())?;
                out.write_all(xml.as_bytes()).map_err(|e| e.to_string())?;
            }
            None => {
                let file = archive.by_index_raw(i).map_err(|e| e.to_string())?;
                out.raw_copy_file(file).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(out.finish().map_err(|e| e.to_string())?.into_inner())
}

/// The chart part `xml` as a bubble chart, when it is a scatter chart whose series are all in
/// `bubbles`; `None` otherwise.
fn as_bubbles(xml: &str, bubbles: &[BubbleSizes]) -> Option<String> {
    let start = xml.find("<c:scatterChart>")?;
    let end = xml.find("</c:scatterChart>")?;
    let body = &xml[start + "<c:scatterChart>".len()..end];
    let mut rebuilt = String::from("<c:bubbleChart>");
    let mut rest = body;
    let mut converted = 0;
    // Everything before the first series (the scatter style) is dropped; varyColors is kept.
    rebuilt.push_str("<c:varyColors val=\"0\"/>");
    while let Some(at) = rest.find("<c:ser>") {
        let close = rest[at..].find("</c:ser>")? + at + "</c:ser>".len();
        let series = &rest[at..close];
        let values =
            between(series, "<c:yVal>", "</c:yVal>").and_then(|y| between(y, "<c:f>", "</c:f>"))?;
        let sizes = bubbles.iter().find(|b| escape(&b.values) == values)?;
        rebuilt.push_str(&bubble_series(series, &escape(&sizes.sizes)));
        converted += 1;
        rest = &rest[close..];
    }
    if converted == 0 {
        return None;
    }
    // After the last series come the labels settings and the axis ids.
    let axes = rest.find("<c:axId")?;
    rebuilt.push_str("<c:bubbleScale val=\"100\"/><c:showNegBubbles val=\"0\"/>");
    rebuilt.push_str(&rest[axes..]);
    rebuilt.push_str("</c:bubbleChart>");
    Some(format!(
        "{}{}{}",
        &xml[..start],
        rebuilt,
        &xml[end + "</c:scatterChart>".len()..]
    ))
}

/// A scatter series as a bubble series: no marker, no smoothing, sized by `sizes`.
fn bubble_series(series: &str, sizes: &str) -> String {
    let mut s = series.to_string();
    if let (Some(a), Some(b)) = (s.find("<c:marker>"), s.find("</c:marker>")) {
        s.replace_range(a..b + "</c:marker>".len(), "");
    }
    for smooth in ["<c:smooth val=\"0\"/>", "<c:smooth val=\"1\"/>"] {
        s = s.replace(smooth, "");
    }
    let size = format!(
        "<c:bubbleSize><c:numRef><c:f>{sizes}</c:f></c:numRef></c:bubbleSize><c:bubble3D val=\"0\"/>"
    );
    s.replace("</c:ser>", &format!("{size}</c:ser>"))
}

/// The text between the first `open` and the `close` after it.
fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let a = text.find(open)? + open.len();
    let b = text[a..].find(close)? + a;
    Some(&text[a..b])
}

/// Text as XML writes it.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scatter_series_becomes_a_bubble_series_with_its_sizes() {
        let xml = concat!(
            "<c:chart><c:plotArea><c:scatterChart><c:scatterStyle val=\"lineMarker\"/>",
            "<c:varyColors val=\"0\"/>",
            "<c:ser><c:idx val=\"0\"/><c:order val=\"0\"/><c:marker><c:symbol val=\"none\"/></c:marker>",
            "<c:xVal><c:numRef><c:f>Summary!$B$2:$B$4</c:f></c:numRef></c:xVal>",
            "<c:yVal><c:numRef><c:f>Summary!$C$2:$C$4</c:f></c:numRef></c:yVal>",
            "<c:smooth val=\"0\"/></c:ser>",
            "<c:axId val=\"1\"/><c:axId val=\"2\"/></c:scatterChart></c:plotArea></c:chart>"
        );
        let bubbles = [BubbleSizes {
            values: "Summary!$C$2:$C$4".into(),
            sizes: "Summary!$D$2:$D$4".into(),
        }];
        let out = as_bubbles(xml, &bubbles).unwrap();
        assert_eq!(
            out,
            concat!(
                "<c:chart><c:plotArea><c:bubbleChart><c:varyColors val=\"0\"/>",
                "<c:ser><c:idx val=\"0\"/><c:order val=\"0\"/>",
                "<c:xVal><c:numRef><c:f>Summary!$B$2:$B$4</c:f></c:numRef></c:xVal>",
                "<c:yVal><c:numRef><c:f>Summary!$C$2:$C$4</c:f></c:numRef></c:yVal>",
                "<c:bubbleSize><c:numRef><c:f>Summary!$D$2:$D$4</c:f></c:numRef></c:bubbleSize>",
                "<c:bubble3D val=\"0\"/></c:ser>",
                "<c:bubbleScale val=\"100\"/><c:showNegBubbles val=\"0\"/>",
                "<c:axId val=\"1\"/><c:axId val=\"2\"/></c:bubbleChart></c:plotArea></c:chart>"
            )
        );
        // A scatter chart of other series is left alone.
        let others = [BubbleSizes {
            values: "Other!$C$2:$C$4".into(),
            sizes: "Other!$D$2:$D$4".into(),
        }];
        assert_eq!(as_bubbles(xml, &others), None);
    }
}
