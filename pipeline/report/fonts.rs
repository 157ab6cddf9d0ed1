//! The fonts the chart images draw their text with. itvalue carries two, compiled in, so the
//! images render on a machine with no fonts installed: DejaVu Sans for Latin text (or the
//! configured `charts.font`), and a cut of WenQuanYi Micro Hei for Chinese (every character of
//! `labels/zh.toml` and the 3,755 most common Chinese characters; `scripts/cjk-font-subset.sh`
//! makes it). A chart whose text needs more, a rare character of a name in the data say, takes the
//! first full CJK font found on the system; when none has it, the run warns, naming the
//! characters and what to install, rather than draw empty boxes unannounced.
//!
//! In: the texts of a chart. Out: the font family to draw it with, registered with plotters, and
//! the characters no font can draw.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef};
use plotters::style::FontStyle;

/// The Latin font compiled in, and its CJK companion.
static LATIN: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static CJK: &[u8] = include_bytes!("../../assets/fonts/itvalue-cjk.ttf");

/// Where full CJK fonts are looked for, in order (Debian/Ubuntu, Fedora, macOS, Windows).
const SYSTEM_CJK: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:\\Windows\\Fonts\\msyh.ttc",
    "C:\\Windows\\Fonts\\simsun.ttc",
];

/// The plotters family names.
const LATIN_FAMILY: &str = "sans-serif";
const CJK_FAMILY: &str = "itvalue-cjk";
const SYSTEM_FAMILY: &str = "system-cjk";

/// The fonts registered with plotters, once per process.
struct Registered {
    latin: &'static [u8],
    cjk: &'static [u8],
    system: Option<(PathBuf, &'static [u8])>,
}

/// Registers the fonts; `configured` (charts.font) replaces the Latin one.
///
/// # Errors
///
/// A message when the configured font cannot be read or is not a TrueType/OpenType font.
fn registered(configured: Option<&Path>) -> Result<&'static Registered, String> {
    static REGISTERED: OnceLock<Result<Registered, String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let latin: &'static [u8] = match configured {
                Some(path) => {
                    let bytes = std::fs::read(path).map_err(|e| {
                        format!("charts.font = {}: cannot be read: {e}", path.display())
                    })?;
                    // plotters keeps registered fonts for the life of the process, so it wants
                    // them 'static; this happens once.
                    Box::leak(bytes.into_boxed_slice())
                }
                None => LATIN,
            };
            let register = |family: &str, bytes: &'static [u8], what: &str| {
                plotters::style::register_font(family, FontStyle::Normal, bytes)
                    .map_err(|_| format!("{what} is not a usable TrueType or OpenType font"))
            };
            register(
                LATIN_FAMILY,
                latin,
                &configured.map_or("the compiled-in Latin font".into(), |p| {
                    format!("charts.font = {}", p.display())
                }),
            )?;
            register(CJK_FAMILY, CJK, "the compiled-in CJK font")?;
            let system = SYSTEM_CJK.iter().find_map(|p| {
                let bytes: &'static [u8] = Box::leak(std::fs::read(p).ok()?.into_boxed_slice());
                FontRef::try_from_slice(bytes).ok()?;
                register(SYSTEM_FAMILY, bytes, p).ok()?;
                Some((PathBuf::from(p), bytes))
            });
            Ok(Registered {
                latin,
                cjk: CJK,
                system,
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The characters of `texts` that the font of `bytes` has no glyph for (spaces aside).
fn missing(bytes: &[u8], texts: &[&str]) -> Vec<char> {
    let Ok(font) = FontRef::try_from_slice(bytes) else {
        return texts.iter().flat_map(|t| t.chars()).collect();
    };
    let mut out: Vec<char> = texts
        .iter()
        .flat_map(|t| t.chars())
        .filter(|c| !c.is_whitespace() && font.glyph_id(*c).0 == 0)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The family to draw a chart's `texts` with, and the characters none of the fonts can draw.
///
/// # Errors
///
/// As [`registered`].
pub fn family_for(
    configured: Option<&Path>,
    texts: &[&str],
) -> Result<(&'static str, Vec<char>), String> {
    let fonts = registered(configured)?;
    let latin_missing = missing(fonts.latin, texts);
    if latin_missing.is_empty() {
        return Ok((LATIN_FAMILY, Vec::new()));
    }
    let cjk_missing = missing(fonts.cjk, texts);
    if cjk_missing.is_empty() {
        return Ok((CJK_FAMILY, Vec::new()));
    }
    match &fonts.system {
        Some((_, bytes)) => {
            let left = missing(bytes, texts);
            Ok((SYSTEM_FAMILY, left))
        }
        None => Ok((CJK_FAMILY, cjk_missing)),
    }
}

/// What to tell a user whose chart text has characters no font can draw.
pub fn advice(characters: &[char]) -> String {
    let shown: String = characters.iter().take(20).collect();
    format!(
        "no font can draw {shown:?} in the chart images: install a font that has them (Debian and Ubuntu: apt-get install fonts-noto-cjk) or set charts.font to one"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::{Lang, catalogue};

    #[test]
    fn the_compiled_in_fonts_draw_every_label_a_chart_can_show_in_both_languages() {
        for lang in Lang::ALL {
            // Charts show titles, series names (headers) and axis labels, never the definitions.
            let texts: Vec<&str> = catalogue(lang)
                .iter()
                .filter(|(k, _)| !k.ends_with(".formula") && !k.ends_with(".when_empty"))
                .map(|(_, v)| v.as_str())
                .collect();
            let (family, left) = family_for(None, &texts).unwrap();
            assert_eq!(
                left,
                Vec::<char>::new(),
                "labels/{}.toml has characters the compiled-in fonts lack: rerun scripts/cjk-font-subset.sh",
                lang.code()
            );
            assert_eq!(
                family,
                if lang == Lang::En {
                    LATIN_FAMILY
                } else {
                    CJK_FAMILY
                },
                "{}",
                lang.code()
            );
        }
        // Latin text stays with the Latin font; a character the fonts lack is named.
        assert_eq!(family_for(None, &["Actual 1,234"]).unwrap().0, LATIN_FAMILY);
        assert_eq!(missing(CJK, &["投资 \u{1F600}"]), ['\u{1F600}']);
        assert_eq!(missing(LATIN, &["投资 ok"]), ['投', '资']);
        assert!(advice(&['\u{1F600}']).contains("fonts-noto-cjk"));
    }
}
