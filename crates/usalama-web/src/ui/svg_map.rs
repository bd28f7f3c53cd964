//! Maps and charts drawn by the server as inline SVG: a choropleth of administrative areas
//! and bar charts of counts. No tiles, fonts or scripts are fetched.
//!
//! The choropleth projects longitude and latitude equirectangularly, with longitudes
//! shrunk by the cosine of the middle latitude, fits the areas' bounding box to the width
//! asked for, rounds coordinates to tenths of an SVG unit and drops detail finer than half
//! a unit (Douglas–Peucker), so that a country's provinces stay a few tens of kilobytes.
//! Colours are ColorBrewer's colour-blind-safe YlOrRd in five classes, zero in grey.
//!
//! Every text that comes from data is escaped here, since these functions return strings.

use super::i18n::{format_count, Lang};
use geo_types::{LineString, MultiPolygon};
use std::borrow::Cow;
use std::fmt::Write as _;

/// One area of a choropleth.
#[derive(Debug, Clone, PartialEq)]
pub struct MapArea {
    /// Its code (a P-code such as `CF62`), written to `data-code`.
    pub code: String,
    /// Its name, shown on hover and read by screen readers.
    pub name: String,
    /// Its shape, longitude/latitude in WGS 84.
    pub geometry: MultiPolygon<f64>,
    /// The value that sets its colour.
    pub value: u64,
    /// A local link to follow when the area is clicked (`/events?locality=CF62`). Only
    /// links starting with a single `/` or with `?` are used; others are ignored.
    pub href: Option<String>,
}

/// The five sequential colours, light to dark (ColorBrewer YlOrRd, colour-blind safe).
pub const PALETTE: [&str; 5] = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];

/// The colour of areas whose value is zero.
pub const ZERO_COLOUR: &str = "#d4d4d4";

/// Distinct colours for the series of a stacked chart (Okabe–Ito, colour-blind safe).
pub const SERIES_COLOURS: [&str; 6] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
];

/// Escapes text for SVG/XML content and attribute values.
fn esc(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether `href` is a link within the site: `/path` (not `//host`) or `?query`.
fn is_local_href(href: &str) -> bool {
    (href.starts_with('/') && !href.starts_with("//") && !href.contains('\\'))
        || href.starts_with('?')
}

/// The smallest "nice" number (1, 2, 2.5, 5 × 10ⁿ, integers only) at least `v`.
fn nice_ceil(v: u64) -> u64 {
    if v <= 1 {
        return v.max(1);
    }
    let mut base: u64 = 1;
    loop {
        for m in [10u64, 20, 25, 50] {
            // base * m / 10 keeps 2.5 × 10ⁿ for n ≥ 1 only.
            let n = base.saturating_mul(m) / 10;
            if n * 10 == base.saturating_mul(m) && n >= v {
                return n;
            }
        }
        match base.checked_mul(10) {
            Some(b) => base = b,
            None => return v,
        }
    }
}

/// Upper bounds of up to five classes for the non-zero `values`: quantiles at 20, 40, 60
/// and 80 % rounded up to nice numbers, then the maximum. Class *i* holds the values
/// above bound *i − 1* (or 0) up to bound *i*. Empty when no value is above zero.
pub fn class_breaks(values: &[u64]) -> Vec<u64> {
    let mut v: Vec<u64> = values.iter().copied().filter(|&x| x > 0).collect();
    v.sort_unstable();
    let Some(&max) = v.last() else {
        return Vec::new();
    };
    let mut distinct = v.clone();
    distinct.dedup();
    if distinct.len() <= PALETTE.len() {
        return distinct;
    }
    let mut breaks = Vec::with_capacity(PALETTE.len());
    for i in 1..PALETTE.len() {
        let idx = (v.len() * i).div_ceil(PALETTE.len()).saturating_sub(1);
        let q = nice_ceil(v[idx.min(v.len() - 1)]);
        if q < max && breaks.last().is_none_or(|&b| q > b) {
            breaks.push(q);
        }
    }
    breaks.push(max);
    breaks
}

/// The palette index of class `i` of `n`, spread over the five colours.
fn class_colour(i: usize, n: usize) -> &'static str {
    let last = PALETTE.len() - 1;
    let idx = if n <= 1 {
        last / 2
    } else {
        (i * last + (n - 1) / 2) / (n - 1)
    };
    PALETTE[idx.min(last)]
}

fn colour_of(value: u64, breaks: &[u64]) -> &'static str {
    if value == 0 {
        return ZERO_COLOUR;
    }
    let i = breaks
        .iter()
        .position(|&b| value <= b)
        .unwrap_or(breaks.len().saturating_sub(1));
    class_colour(i, breaks.len())
}

/// Writes a length in tenths of a unit as a short decimal: 123 → `12.3`, -5 → `-.5`.
fn push_tenths(out: &mut String, v: i64) {
    let neg = v < 0;
    let a = v.unsigned_abs();
    let (int, frac) = (a / 10, a % 10);
    // A leading separator is needed unless the number starts with '-' or follows a command.
    let needs_space = !neg && !out.ends_with(|c: char| c.is_ascii_alphabetic());
    if needs_space {
        out.push(' ');
    }
    if neg {
        out.push('-');
    }
    match (int, frac) {
        (i, 0) => {
            let _ = write!(out, "{i}");
        }
        (0, f) => {
            let _ = write!(out, ".{f}");
        }
        (i, f) => {
            let _ = write!(out, "{i}.{f}");
        }
    }
}

/// Squared distance from `p` to the segment `a`–`b`.
fn seg_dist2(p: (i64, i64), a: (i64, i64), b: (i64, i64)) -> f64 {
    let (px, py) = (p.0 as f64, p.1 as f64);
    let (ax, ay) = (a.0 as f64, a.1 as f64);
    let (dx, dy) = (b.0 as f64 - ax, b.1 as f64 - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0)
    };
    let (ex, ey) = (ax + t * dx - px, ay + t * dy - py);
    ex * ex + ey * ey
}

/// Douglas–Peucker on an open polyline: marks the points to keep.
fn douglas_peucker(pts: &[(i64, i64)], tol2: f64, keep: &mut [bool]) {
    let mut stack = vec![(0usize, pts.len().saturating_sub(1))];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let mut far = (0.0, a);
        for (i, p) in pts.iter().enumerate().take(b).skip(a + 1) {
            let d = seg_dist2(*p, pts[a], pts[b]);
            if d > far.0 {
                far = (d, i);
            }
        }
        if far.0 > tol2 {
            keep[far.1] = true;
            stack.push((a, far.1));
            stack.push((far.1, b));
        }
    }
}

/// Simplifies a closed ring of points in tenths of a unit: drops repeats and points within
/// `tol` tenths of the previous kept point, then Douglas–Peucker with the same tolerance.
/// The result is open (the closing point is implied by `z`) and has at least three points
/// when the input has; otherwise the de-duplicated input is returned.
fn simplify_ring(ring: &[(i64, i64)], tol: i64) -> Vec<(i64, i64)> {
    let mut pts: Vec<(i64, i64)> = Vec::with_capacity(ring.len());
    for &p in ring {
        if pts.last() != Some(&p) {
            pts.push(p);
        }
    }
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.len() <= 3 {
        return pts;
    }
    let tol2 = (tol * tol) as f64;
    // Radial pass.
    let mut radial: Vec<(i64, i64)> = Vec::with_capacity(pts.len());
    for &p in &pts {
        match radial.last() {
            Some(&q) if ((p.0 - q.0).pow(2) + (p.1 - q.1).pow(2)) as f64 <= tol2 => {}
            _ => radial.push(p),
        }
    }
    if radial.len() <= 3 {
        return pts;
    }
    // Close the ring explicitly, split it at the point farthest from the start, and run
    // Douglas–Peucker on both halves.
    radial.push(radial[0]);
    let start = radial[0];
    let far = radial
        .iter()
        .enumerate()
        .max_by_key(|(_, p)| (p.0 - start.0).pow(2) + (p.1 - start.1).pow(2))
        .map_or(0, |(i, _)| i);
    let mut keep = vec![false; radial.len()];
    keep[0] = true;
    keep[far] = true;
    let last = radial.len() - 1;
    keep[last] = true;
    douglas_peucker(&radial[..=far], tol2, &mut keep[..=far]);
    douglas_peucker(&radial[far..], tol2, &mut keep[far..]);
    let out: Vec<(i64, i64)> = radial
        .iter()
        .zip(&keep)
        .take(last)
        .filter(|(_, k)| **k)
        .map(|(p, _)| *p)
        .collect();
    if out.len() >= 3 {
        out
    } else {
        pts
    }
}

/// Longitude/latitude to SVG tenths of a unit.
struct Projection {
    min_lon: f64,
    max_lat: f64,
    kx: f64,
    scale: f64,
    ox: f64,
    oy: f64,
}

impl Projection {
    fn tenths(&self, lon: f64, lat: f64) -> (i64, i64) {
        let x = self.ox + (lon - self.min_lon) * self.kx * self.scale;
        let y = self.oy + (self.max_lat - lat) * self.scale;
        ((x * 10.0).round() as i64, (y * 10.0).round() as i64)
    }
}

fn rings(geometry: &MultiPolygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    geometry
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
}

fn bbox(areas: &[MapArea]) -> Option<(f64, f64, f64, f64)> {
    let mut b: Option<(f64, f64, f64, f64)> = None;
    for c in areas
        .iter()
        .flat_map(|a| rings(&a.geometry))
        .flat_map(|r| r.0.iter())
        .filter(|c| c.x.is_finite() && c.y.is_finite())
    {
        b = Some(match b {
            None => (c.x, c.y, c.x, c.y),
            Some((x0, y0, x1, y1)) => (x0.min(c.x), y0.min(c.y), x1.max(c.x), y1.max(c.y)),
        });
    }
    b
}

/// The SVG path data of an area.
fn path_data(geometry: &MultiPolygon<f64>, proj: &Projection) -> String {
    let mut d = String::new();
    for ring in rings(geometry) {
        let pts: Vec<(i64, i64)> = ring
            .0
            .iter()
            .filter(|c| c.x.is_finite() && c.y.is_finite())
            .map(|c| proj.tenths(c.x, c.y))
            .collect();
        let pts = simplify_ring(&pts, 5);
        let Some(&first) = pts.first() else { continue };
        d.push('M');
        push_tenths(&mut d, first.0);
        push_tenths(&mut d, first.1);
        if pts.len() > 1 {
            d.push('l');
            let mut prev = first;
            for &p in &pts[1..] {
                push_tenths(&mut d, p.0 - prev.0);
                push_tenths(&mut d, p.1 - prev.1);
                prev = p;
            }
        }
        d.push('z');
    }
    d
}

/// Legend label of class `i` given the upper bounds.
fn class_label(i: usize, breaks: &[u64], fmt: &dyn Fn(u64) -> String) -> String {
    let lo = if i == 0 {
        1
    } else {
        breaks[i - 1].saturating_add(1)
    };
    let hi = breaks[i];
    if lo >= hi {
        fmt(hi)
    } else {
        format!("{}–{}", fmt(lo), fmt(hi))
    }
}

/// A choropleth of `areas` as an inline SVG `width` units wide, numbers written without
/// thousands separators. See [`choropleth_lang`].
pub fn choropleth(areas: &[MapArea], title: &str, legend_title: &str, width: u32) -> String {
    choropleth_with(areas, title, legend_title, width, &|n| n.to_string())
}

/// A choropleth of `areas` with numbers formatted for `lang` ("1,848" / "1 848"): one
/// `<path class="area" data-code="…">` per area with a `<title>` "name: value", wrapped in
/// a link when the area has a local `href`, and a legend of the classes below the map.
pub fn choropleth_lang(
    lang: Lang,
    areas: &[MapArea],
    title: &str,
    legend_title: &str,
    width: u32,
) -> String {
    choropleth_with(areas, title, legend_title, width, &|n| {
        format_count(lang, n)
    })
}

fn choropleth_with(
    areas: &[MapArea],
    title: &str,
    legend_title: &str,
    width: u32,
    fmt: &dyn Fn(u64) -> String,
) -> String {
    let w = f64::from(width.clamp(200, 4000));
    let margin = 4.0;
    let map_w = w - 2.0 * margin;
    let (min_lon, min_lat, max_lon, max_lat) = bbox(areas).unwrap_or((0.0, 0.0, 1.0, 1.0));
    let mid = ((min_lat + max_lat) / 2.0).to_radians();
    let kx = mid.cos().max(0.01);
    let pw = (max_lon - min_lon) * kx;
    let ph = max_lat - min_lat;
    let max_h = 1.5 * w;
    let scale = match (pw > 0.0, ph > 0.0) {
        (true, true) => (map_w / pw).min(max_h / ph),
        (true, false) => map_w / pw,
        (false, true) => max_h / ph,
        (false, false) => 1.0,
    };
    let map_h = (ph * scale).max(1.0);
    let ox = margin + (map_w - pw * scale) / 2.0;
    let proj = Projection {
        min_lon,
        max_lat,
        kx,
        scale,
        ox,
        oy: margin,
    };

    let values: Vec<u64> = areas.iter().map(|a| a.value).collect();
    let breaks = class_breaks(&values);
    let has_zero = values.contains(&0);

    // Legend entries: zero first (when some area has it), then the classes.
    let mut entries: Vec<(&'static str, String)> = Vec::new();
    if has_zero {
        entries.push((ZERO_COLOUR, fmt(0)));
    }
    for i in 0..breaks.len() {
        entries.push((class_colour(i, breaks.len()), class_label(i, &breaks, fmt)));
    }
    // Legend text grows with the width so that it stays readable when a wide map is
    // scaled down to a phone screen.
    let fs = (w / 30.0).clamp(12.0, 24.0);
    let line = (fs * 1.6).round();
    let swatch = (fs * 1.2).round();
    let widest = entries
        .iter()
        .map(|(_, l)| l.chars().count())
        .max()
        .unwrap_or(1) as f64;
    let col_need = swatch + fs * 0.6 + widest * fs * 0.62 + fs;
    let cols = ((map_w / col_need).floor() as usize).clamp(1, 3);
    let rows = entries.len().div_ceil(cols);
    let legend_top = margin + map_h + fs;
    let total_h = legend_top + line + rows as f64 * line + margin;

    let mut s = String::with_capacity(40_000);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"map\" viewBox=\"0 0 {w} {h}\" \
         width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\" font-family=\"sans-serif\" \
         font-size=\"13\"><title>{t}</title>\
         <g fill-rule=\"evenodd\" stroke=\"#555\" stroke-width=\".6\" stroke-linejoin=\"round\">",
        w = w,
        h = total_h.ceil(),
        t = esc(title),
    );
    for a in areas {
        let link = a.href.as_deref().filter(|h| is_local_href(h));
        if let Some(href) = link {
            let _ = write!(s, "<a href=\"{}\">", esc(href));
        }
        let _ = write!(
            s,
            "<path class=\"area\" data-code=\"{}\" fill=\"{}\" d=\"{}\"><title>{}: {}</title></path>",
            esc(&a.code),
            colour_of(a.value, &breaks),
            path_data(&a.geometry, &proj),
            esc(&a.name),
            fmt(a.value),
        );
        if link.is_some() {
            s.push_str("</a>");
        }
    }
    s.push_str("</g>");

    // Legend.
    let _ = write!(
        s,
        "<g class=\"legend\" font-size=\"{fs:.0}\"><text x=\"{m}\" y=\"{y:.0}\" \
         font-weight=\"bold\">{t}</text>",
        m = margin,
        y = legend_top + fs,
        t = esc(legend_title),
    );
    let col_w = map_w / cols as f64;
    for (i, (colour, label)) in entries.iter().enumerate() {
        let (r, c) = (i % rows.max(1), i / rows.max(1));
        let x = margin + c as f64 * col_w;
        let y = legend_top + line + r as f64 * line;
        let _ = write!(
            s,
            "<rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{swatch:.0}\" height=\"{sh:.0}\" \
             fill=\"{colour}\" stroke=\"#555\" stroke-width=\".6\"/>\
             <text x=\"{tx:.0}\" y=\"{ty:.0}\">{l}</text>",
            sh = fs,
            tx = x + swatch + fs * 0.5,
            ty = y + fs * 0.9,
            l = esc(label),
        );
    }
    s.push_str("</g></svg>");
    s
}

/// A bar chart of `series` (label, count), e.g. events by year, numbers written without
/// thousands separators. See [`bar_chart_lang`].
pub fn bar_chart(series: &[(String, u64)], title: &str, width: u32, height: u32) -> String {
    let groups: Vec<(String, Vec<u64>)> = series
        .iter()
        .map(|(label, v)| (label.clone(), vec![*v]))
        .collect();
    bars(&groups, &[], title, width, height, &|n| n.to_string())
}

/// A bar chart of `series` with numbers formatted for `lang`.
pub fn bar_chart_lang(
    lang: Lang,
    series: &[(String, u64)],
    title: &str,
    width: u32,
    height: u32,
) -> String {
    let groups: Vec<(String, Vec<u64>)> = series
        .iter()
        .map(|(label, v)| (label.clone(), vec![*v]))
        .collect();
    bars(&groups, &[], title, width, height, &|n| {
        format_count(lang, n)
    })
}

/// A stacked bar chart: one bar per group (e.g. a year), one segment per series (e.g. a
/// dimension, named in `series_names` and shown in a legend above the bars). Each group's
/// values are in the order of `series_names`; missing values count as zero.
pub fn stacked_bar_chart(
    lang: Lang,
    groups: &[(String, Vec<u64>)],
    series_names: &[String],
    title: &str,
    width: u32,
    height: u32,
) -> String {
    bars(groups, series_names, title, width, height, &|n| {
        format_count(lang, n)
    })
}

/// Rough width of a label in 11-unit sans-serif text.
fn text_w(s: &str) -> f64 {
    s.chars().count() as f64 * 6.6
}

fn bars(
    groups: &[(String, Vec<u64>)],
    series_names: &[String],
    title: &str,
    width: u32,
    height: u32,
    fmt: &dyn Fn(u64) -> String,
) -> String {
    let w = f64::from(width.clamp(160, 4000));
    let h = f64::from(height.clamp(100, 4000));
    let max = groups
        .iter()
        .map(|(_, v)| v.iter().fold(0u64, |a, &b| a.saturating_add(b)))
        .max()
        .unwrap_or(0);
    // Four gridlines at a nice step.
    let step = nice_ceil(max.div_ceil(4).max(1));
    let top_value = step.saturating_mul(max.div_ceil(step).max(1));
    let ticks: Vec<u64> = (0..=top_value / step).map(|i| i * step).collect();
    let label_w = ticks.iter().map(|&t| text_w(&fmt(t))).fold(0.0, f64::max);
    let legend_h = if series_names.is_empty() { 0.0 } else { 20.0 };
    let (left, right, top, bottom) = (label_w + 8.0, 6.0, 8.0 + legend_h, 22.0);
    let plot_w = (w - left - right).max(10.0);
    let plot_h = (h - top - bottom).max(10.0);
    let n = groups.len().max(1);
    let slot = plot_w / n as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let y_of = |v: u64| top + plot_h - (v as f64 / top_value as f64) * plot_h;

    let mut s = String::with_capacity(4_000 + groups.len() * 200);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {w} {h}\" \
         width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\" font-family=\"sans-serif\" \
         font-size=\"11\"><title>{t}</title>",
        t = esc(title),
    );
    // Legend of the series.
    let mut x = left;
    for (i, name) in series_names.iter().enumerate() {
        let colour = SERIES_COLOURS[i % SERIES_COLOURS.len()];
        let _ = write!(
            s,
            "<rect x=\"{x:.0}\" y=\"4\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
             <text x=\"{tx:.0}\" y=\"14\">{l}</text>",
            tx = x + 16.0,
            l = esc(name),
        );
        x += 16.0 + text_w(name) + 14.0;
    }
    // Gridlines and value labels.
    s.push_str("<g stroke=\"#bbb\" stroke-width=\".5\">");
    for &t in &ticks {
        let _ = write!(
            s,
            "<line x1=\"{left:.0}\" x2=\"{x2:.0}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>",
            x2 = w - right,
            y = y_of(t),
        );
    }
    s.push_str("</g><g text-anchor=\"end\">");
    for &t in &ticks {
        let _ = write!(
            s,
            "<text x=\"{x:.0}\" y=\"{y:.1}\">{l}</text>",
            x = left - 4.0,
            y = y_of(t) + 4.0,
            l = esc(&fmt(t)),
        );
    }
    s.push_str("</g>");
    // Bars.
    for (gi, (label, values)) in groups.iter().enumerate() {
        let x = left + gi as f64 * slot + (slot - bar_w) / 2.0;
        let total = values.iter().fold(0u64, |a, &b| a.saturating_add(b));
        let mut tip = format!("{}: {}", label, fmt(total));
        if !series_names.is_empty() {
            for (name, v) in series_names.iter().zip(values) {
                let _ = write!(tip, "; {name}: {}", fmt(*v));
            }
        }
        let _ = write!(s, "<g><title>{}</title>", esc(&tip));
        let mut base = 0u64;
        for (si, &v) in values.iter().enumerate() {
            if v == 0 {
                continue;
            }
            let y0 = y_of(base);
            base = base.saturating_add(v);
            let y1 = y_of(base);
            let colour = if series_names.is_empty() {
                SERIES_COLOURS[0]
            } else {
                SERIES_COLOURS[si % SERIES_COLOURS.len()]
            };
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{bar_w:.1}\" height=\"{hh:.1}\" fill=\"{colour}\"/>",
                hh = (y0 - y1).max(0.5),
            );
        }
        s.push_str("</g>");
    }
    // Axis line and group labels, thinned so that they do not overlap.
    let _ = write!(
        s,
        "<line x1=\"{left:.0}\" x2=\"{x2:.0}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#333\"/>",
        x2 = w - right,
        y = top + plot_h,
    );
    let widest = groups.iter().map(|(l, _)| text_w(l)).fold(0.0, f64::max);
    let every = ((widest + 6.0) / slot).ceil().max(1.0) as usize;
    s.push_str("<g text-anchor=\"middle\">");
    for (gi, (label, _)) in groups.iter().enumerate() {
        if gi % every != 0 {
            continue;
        }
        let _ = write!(
            s,
            "<text x=\"{x:.1}\" y=\"{y:.0}\">{l}</text>",
            x = left + (gi as f64 + 0.5) * slot,
            y = top + plot_h + 15.0,
            l = esc(label),
        );
    }
    s.push_str("</g></svg>");
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use geo_types::{Coord, Polygon};

    fn ring(v: &serde_json::Value) -> LineString<f64> {
        LineString(
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    Some(Coord {
                        x: p.get(0)?.as_f64()?,
                        y: p.get(1)?.as_f64()?,
                    })
                })
                .collect(),
        )
    }

    fn polygon(v: &serde_json::Value) -> Polygon<f64> {
        let rings: Vec<LineString<f64>> = v.as_array().into_iter().flatten().map(ring).collect();
        let mut it = rings.into_iter();
        let ext = it.next().unwrap_or_else(|| LineString(vec![]));
        Polygon::new(ext, it.collect())
    }

    /// The CAR prefectures shipped in `data/demo`, with made-up values.
    pub(crate) fn car_areas() -> Vec<MapArea> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/demo/caf_admin1.geojson"
        );
        let text = std::fs::read_to_string(path).expect("demo boundaries");
        let fc: serde_json::Value = serde_json::from_str(&text).expect("geojson");
        let features = fc["features"].as_array().expect("features");
        features
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let g = &f["geometry"];
                let coords = &g["coordinates"];
                let geometry = match g["type"].as_str() {
                    Some("Polygon") => MultiPolygon(vec![polygon(coords)]),
                    Some("MultiPolygon") => MultiPolygon(
                        coords
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(polygon)
                            .collect(),
                    ),
                    other => panic!("unexpected geometry {other:?}"),
                };
                let code = f["properties"]["adm1_pcode"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                MapArea {
                    href: Some(format!("/events?locality={code}&x=1")),
                    code,
                    name: f["properties"]["adm1_name"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    geometry,
                    value: [0, 3, 12, 40, 95, 260, 1848][i % 7],
                }
            })
            .collect()
    }

    #[test]
    fn car_prefectures_render_small_and_complete() {
        let mut areas = car_areas();
        assert_eq!(areas.len(), 17);
        areas[0].name = "A & <B> \"C\" 'D'".into();
        let svg = choropleth(&areas, "Events <2024>", "Events", 600);
        assert_eq!(svg.matches("data-code=\"").count(), 17);
        assert_eq!(svg.matches("<path class=\"area\"").count(), 17);
        assert_eq!(svg.matches("<a href=\"/events?locality=").count(), 17);
        assert!(svg.contains("&amp;x=1"));
        assert!(svg.len() < 60_000, "svg is {} bytes", svg.len());
        let without_ns = svg.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(!without_ns.contains("http"));
        assert!(svg.contains("<title>A &amp; &lt;B&gt; &quot;C&quot; &#39;D&#39;: 0</title>"));
        assert!(svg.contains("aria-label=\"Events &lt;2024&gt;\""));
        assert!(svg.contains("role=\"img\""));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        // Zero in grey, the largest class in the darkest colour, legend with both.
        assert!(svg.contains(ZERO_COLOUR) && svg.contains(PALETTE[4]));
        assert!(svg.contains(">1849<") || svg.contains("–1848<"));
    }

    #[test]
    fn localized_numbers_and_unsafe_links() {
        let mut areas = car_areas();
        areas[0].href = Some("javascript:alert(1)".into());
        areas[1].href = Some("//evil.example/".into());
        let svg = choropleth_lang(Lang::Fr, &areas, "t", "l", 360);
        assert!(svg.contains("1\u{a0}848"));
        assert!(!svg.contains("javascript") && !svg.contains("evil"));
        assert_eq!(svg.matches("<a href=").count(), 15);
    }

    #[test]
    fn breaks_and_colours() {
        assert_eq!(class_breaks(&[0, 0]), Vec::<u64>::new());
        assert_eq!(class_breaks(&[0, 3, 3, 7]), vec![3, 7]);
        let b = class_breaks(&(1..=100).collect::<Vec<_>>());
        assert_eq!(b, vec![20, 50, 100]);
        let b = class_breaks(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 200, 1848]);
        assert_eq!(b.last(), Some(&1848));
        assert!(b.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(colour_of(0, &b), ZERO_COLOUR);
        assert_eq!(colour_of(1848, &b), PALETTE[4]);
        assert_eq!(colour_of(1, &b), PALETTE[0]);
        assert_eq!(nice_ceil(3), 5);
        assert_eq!(nice_ceil(21), 25);
        assert_eq!(nice_ceil(251), 500);
        assert_eq!(class_colour(0, 1), PALETTE[2]);
    }

    #[test]
    fn empty_and_degenerate_input_do_not_panic() {
        let svg = choropleth(&[], "t", "l", 300);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        let point = MapArea {
            code: "X".into(),
            name: "x".into(),
            geometry: MultiPolygon(vec![Polygon::new(
                LineString(vec![
                    Coord { x: 1.0, y: 1.0 },
                    Coord {
                        x: f64::NAN,
                        y: 1.0,
                    },
                ]),
                vec![],
            )]),
            value: 5,
            href: None,
        };
        let svg = choropleth(&[point], "t", "l", 300);
        assert_eq!(svg.matches("data-code=\"X\"").count(), 1);
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn path_numbers_are_compact() {
        let mut s = String::from("M");
        for v in [123, -5, 30, 0, -120] {
            push_tenths(&mut s, v);
        }
        assert_eq!(s, "M12.3-.5 3 0-12");
        let square: Vec<(i64, i64)> =
            vec![(0, 0), (100, 0), (100, 1), (100, 100), (0, 100), (0, 0)];
        assert_eq!(
            simplify_ring(&square, 5),
            vec![(0, 0), (100, 0), (100, 100), (0, 100)]
        );
    }

    #[test]
    fn bar_charts() {
        let series: Vec<(String, u64)> = (1989..=2024)
            .map(|y| (y.to_string(), (y as u64 % 7) * 300))
            .collect();
        let svg = bar_chart(&series, "By <year>", 360, 180);
        assert!(svg.contains("aria-label=\"By &lt;year&gt;\""));
        assert!(svg.matches("<rect").count() >= 30);
        assert!(svg.contains(">1989<"));
        let fr = stacked_bar_chart(
            Lang::Fr,
            &[
                ("2020".into(), vec![1000, 2, 3]),
                ("2021".into(), vec![0, 0, 0]),
            ],
            &["Vies".into(), "Moyens & co".into(), "Dignité".into()],
            "t",
            360,
            180,
        );
        assert!(fr.contains("2020: 1\u{a0}005; Vies: 1\u{a0}000; Moyens &amp; co: 2; Dignité: 3"));
        assert!(!bar_chart(&[], "t", 10, 10).is_empty());
    }
}
