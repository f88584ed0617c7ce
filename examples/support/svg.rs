//! A small SVG chart writer for the examples: line, band, points, axes with ticks and a
//! legend. Enough for a forecast band and a PP-plot without a plotting dependency.

use std::fmt::Write as _;

/// One chart panel placed at an offset inside a larger SVG document.
pub struct Panel {
    x0: f64,
    y0: f64,
    width: f64,
    height: f64,
    x_range: (f64, f64),
    y_range: (f64, f64),
    body: String,
    legend: Vec<(String, String)>,
}

const MARGIN_LEFT: f64 = 56.0;
const MARGIN_RIGHT: f64 = 16.0;
const MARGIN_TOP: f64 = 30.0;
const MARGIN_BOTTOM: f64 = 40.0;

impl Panel {
    /// A panel whose outer box is `width` x `height` at `(x0, y0)`, showing data in
    /// `x_range` x `y_range`.
    pub fn new(
        (x0, y0): (f64, f64),
        (width, height): (f64, f64),
        x_range: (f64, f64),
        y_range: (f64, f64),
    ) -> Self {
        Self {
            x0,
            y0,
            width,
            height,
            x_range,
            y_range,
            body: String::new(),
            legend: Vec::new(),
        }
    }

    fn px(&self, x: f64) -> f64 {
        let (a, b) = self.x_range;
        self.x0 + MARGIN_LEFT + (x - a) / (b - a) * (self.width - MARGIN_LEFT - MARGIN_RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        let (a, b) = self.y_range;
        let y = y.clamp(a, b);
        self.y0 + self.height - MARGIN_BOTTOM - (y - a) / (b - a) * (self.height - MARGIN_TOP - MARGIN_BOTTOM)
    }

    /// A polyline through the finite points; a gap where a value is NaN.
    pub fn line(&mut self, xs: &[f64], ys: &[f64], color: &str, width: f64, label: Option<&str>) {
        let mut d = String::new();
        let mut pen_down = false;
        for (&x, &y) in xs.iter().zip(ys) {
            if !y.is_finite() {
                pen_down = false;
                continue;
            }
            let _ = write!(d, "{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, self.px(x), self.py(y));
            pen_down = true;
        }
        let _ = writeln!(
            self.body,
            r#"<path d="{d}" fill="none" stroke="{color}" stroke-width="{width}"/>"#
        );
        self.label(label, color);
    }

    /// A filled band between `lo` and `hi` (NaN entries are skipped).
    pub fn band(&mut self, xs: &[f64], lo: &[f64], hi: &[f64], color: &str, label: Option<&str>) {
        let idx: Vec<usize> = (0..xs.len()).filter(|&i| lo[i].is_finite() && hi[i].is_finite()).collect();
        if idx.is_empty() {
            return;
        }
        let mut d = String::new();
        for (k, &i) in idx.iter().enumerate() {
            let _ = write!(d, "{}{:.1},{:.1} ", if k == 0 { "M" } else { "L" }, self.px(xs[i]), self.py(hi[i]));
        }
        for &i in idx.iter().rev() {
            let _ = write!(d, "L{:.1},{:.1} ", self.px(xs[i]), self.py(lo[i]));
        }
        let _ = writeln!(self.body, r#"<path d="{d}Z" fill="{color}" stroke="none"/>"#);
        self.label(label, color);
    }

    /// Circles at the given points.
    pub fn points(&mut self, xs: &[f64], ys: &[f64], color: &str, radius: f64, label: Option<&str>) {
        for (&x, &y) in xs.iter().zip(ys) {
            let _ = writeln!(
                self.body,
                r#"<circle cx="{:.1}" cy="{:.1}" r="{radius}" fill="none" stroke="{color}" stroke-width="1.5"/>"#,
                self.px(x),
                self.py(y)
            );
        }
        self.label(label, color);
    }

    fn label(&mut self, label: Option<&str>, color: &str) {
        if let Some(l) = label {
            self.legend.push((l.to_string(), color.to_string()));
        }
    }

    /// Renders the axes, ticks, title and legend around the drawn elements.
    pub fn render(&self, title: &str, x_label: &str, y_label: &str) -> String {
        let mut s = String::new();
        let (left, right) = (self.x0 + MARGIN_LEFT, self.x0 + self.width - MARGIN_RIGHT);
        let (top, bottom) = (self.y0 + MARGIN_TOP, self.y0 + self.height - MARGIN_BOTTOM);
        let _ = writeln!(s, r#"<clipPath id="c{x}{y}"><rect x="{left}" y="{top}" width="{w}" height="{h}"/></clipPath>"#,
            x = self.x0 as i64, y = self.y0 as i64, w = right - left, h = bottom - top);
        for t in ticks(self.x_range) {
            let x = self.px(t);
            let _ = writeln!(s, r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{bottom}" stroke="#eee"/><text x="{x:.1}" y="{}" font-size="11" text-anchor="middle">{}</text>"##, bottom + 14.0, fmt_tick(t));
        }
        for t in ticks(self.y_range) {
            let y = self.py(t);
            let _ = writeln!(s, r##"<line x1="{left}" y1="{y:.1}" x2="{right}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##, left - 4.0, y + 4.0, fmt_tick(t));
        }
        let _ = writeln!(s, r#"<g clip-path="url(#c{}{})">{}</g>"#, self.x0 as i64, self.y0 as i64, self.body);
        let _ = writeln!(s, r#"<rect x="{left}" y="{top}" width="{}" height="{}" fill="none" stroke="black"/>"#, right - left, bottom - top);
        let _ = writeln!(s, r#"<text x="{}" y="{}" font-size="14" font-weight="bold" text-anchor="middle">{title}</text>"#, (left + right) / 2.0, self.y0 + 18.0);
        let _ = writeln!(s, r#"<text x="{}" y="{}" font-size="12" text-anchor="middle">{x_label}</text>"#, (left + right) / 2.0, bottom + 30.0);
        let _ = writeln!(s, r#"<text x="{}" y="{}" font-size="12" text-anchor="middle" transform="rotate(-90 {} {})">{y_label}</text>"#,
            self.x0 + 14.0, (top + bottom) / 2.0, self.x0 + 14.0, (top + bottom) / 2.0);
        for (i, (label, color)) in self.legend.iter().enumerate() {
            let y = top + 14.0 + 16.0 * i as f64;
            let _ = writeln!(s, r#"<rect x="{}" y="{}" width="12" height="10" fill="{color}" stroke="{color}"/><text x="{}" y="{}" font-size="11">{label}</text>"#,
                left + 8.0, y - 9.0, left + 24.0, y);
        }
        s
    }
}

/// About six round tick positions covering `range`.
fn ticks((a, b): (f64, f64)) -> Vec<f64> {
    let raw = (b - a) / 6.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let mut t = (a / step).ceil() * step;
    let mut out = Vec::new();
    while t <= b + 1e-9 * step {
        out.push(t);
        t += step;
    }
    out
}

fn fmt_tick(t: f64) -> String {
    if t.abs() >= 1000.0 || t == t.round() {
        format!("{t:.0}")
    } else if (10.0 * t) == (10.0 * t).round() {
        format!("{t:.1}")
    } else {
        format!("{t:.2}")
    }
}

/// Wraps rendered panels into a complete SVG document.
pub fn document(width: f64, height: f64, panels: &[String]) -> String {
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
"#
    );
    for p in panels {
        s.push_str(p);
    }
    s.push_str("</svg>\n");
    s
}
