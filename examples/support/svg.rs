//! A small SVG chart writer for the examples: lines, bands, markers, shaded spans,
//! text, axes with ticks and a legend row. Enough for a forecast band and a PP-plot
//! without a plotting dependency.
//!
//! Coordinates passed to a [`Panel`] are data coordinates; the panel maps them into
//! its box inside the document. Text is escaped; widths of text are estimated (about
//! 0.6 em per character), which is what the legend layout relies on.

use std::fmt::Write as _;

const MARGIN_LEFT: f64 = 62.0;
const MARGIN_RIGHT: f64 = 16.0;
/// Room for the title line and one legend row above the plot area.
const MARGIN_TOP: f64 = 50.0;
const MARGIN_BOTTOM: f64 = 42.0;
const FONT: f64 = 12.0;

/// How a line is stroked.
#[derive(Clone, Copy)]
pub struct Stroke<'a> {
    /// Any SVG colour.
    pub color: &'a str,
    /// Width in pixels.
    pub width: f64,
    /// An SVG dash array such as `"5 3"`, or `None` for a solid line.
    pub dash: Option<&'a str>,
}

impl<'a> Stroke<'a> {
    /// A solid line.
    pub fn solid(color: &'a str, width: f64) -> Self {
        Self {
            color,
            width,
            dash: None,
        }
    }

    /// A dashed line.
    pub fn dashed(color: &'a str, width: f64) -> Self {
        Self {
            color,
            width,
            dash: Some("6 4"),
        }
    }
}

/// The shape drawn at each point by [`Panel::markers`].
#[derive(Clone, Copy)]
pub enum Marker {
    /// A filled disc.
    Dot,
    /// An open circle (a ring), drawn with a 2 px stroke.
    Ring,
}

/// What a legend entry shows before its label.
#[derive(Clone)]
pub enum Swatch {
    /// A short line segment.
    Line {
        /// Colour.
        color: String,
        /// Width in pixels.
        width: f64,
        /// Dash array, if dashed.
        dash: Option<String>,
    },
    /// A filled square.
    Fill(String),
    /// A marker of the given colour and radius.
    Marker(Marker, String, f64),
}

/// One chart panel placed at an offset inside a larger SVG document.
pub struct Panel {
    x0: f64,
    y0: f64,
    width: f64,
    height: f64,
    x_range: (f64, f64),
    y_range: (f64, f64),
    x_ticks: Option<Vec<(f64, String)>>,
    body: String,
    legend: Vec<(String, Vec<Swatch>)>,
}

impl Panel {
    /// A panel whose outer box is `width` x `height` at `(x0, y0)` in the document,
    /// showing data in `x_range` x `y_range`.
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
            x_ticks: None,
            body: String::new(),
            legend: Vec::new(),
        }
    }

    /// Replaces the automatic x ticks by these positions and labels.
    pub fn x_ticks(&mut self, ticks: Vec<(f64, String)>) {
        self.x_ticks = Some(ticks);
    }

    fn left(&self) -> f64 {
        self.x0 + MARGIN_LEFT
    }
    fn right(&self) -> f64 {
        self.x0 + self.width - MARGIN_RIGHT
    }
    fn top(&self) -> f64 {
        self.y0 + MARGIN_TOP
    }
    fn bottom(&self) -> f64 {
        self.y0 + self.height - MARGIN_BOTTOM
    }

    /// Pixel column of the data coordinate `x`.
    pub fn px(&self, x: f64) -> f64 {
        let (a, b) = self.x_range;
        self.left() + (x - a) / (b - a) * (self.right() - self.left())
    }

    /// Pixel row of the data coordinate `y`, clamped to the plot area.
    pub fn py(&self, y: f64) -> f64 {
        let (a, b) = self.y_range;
        let y = y.clamp(a, b);
        self.bottom() - (y - a) / (b - a) * (self.bottom() - self.top())
    }

    /// A polyline through the points; a gap wherever `y` is not finite.
    pub fn line(&mut self, xs: &[f64], ys: &[f64], stroke: Stroke<'_>, label: Option<&str>) {
        let mut d = String::new();
        let mut pen_down = false;
        for (&x, &y) in xs.iter().zip(ys) {
            if !y.is_finite() {
                pen_down = false;
                continue;
            }
            let command = if pen_down { 'L' } else { 'M' };
            let _ = write!(d, "{command}{:.1},{:.1} ", self.px(x), self.py(y));
            pen_down = true;
        }
        let dash = stroke
            .dash
            .map(|d| format!(r#" stroke-dasharray="{d}""#))
            .unwrap_or_default();
        let _ = writeln!(
            self.body,
            r#"<path d="{d}" fill="none" stroke="{}" stroke-width="{}" stroke-linejoin="round"{dash}/>"#,
            stroke.color, stroke.width
        );
        if let Some(label) = label {
            self.legend_entry(
                label,
                vec![Swatch::Line {
                    color: stroke.color.to_string(),
                    width: stroke.width.max(2.0),
                    dash: stroke.dash.map(str::to_string),
                }],
            );
        }
    }

    /// A filled band between `lo` and `hi`. Each run of consecutive finite entries
    /// becomes its own polygon, so a gap in the data is a gap in the band.
    pub fn band(&mut self, xs: &[f64], lo: &[f64], hi: &[f64], fill: &str, label: Option<&str>) {
        let finite = |i: usize| lo[i].is_finite() && hi[i].is_finite();
        let mut i = 0;
        while i < xs.len() {
            if !finite(i) {
                i += 1;
                continue;
            }
            let start = i;
            while i < xs.len() && finite(i) {
                i += 1;
            }
            let mut d = String::new();
            for k in start..i {
                let command = if k == start { 'M' } else { 'L' };
                let _ = write!(d, "{command}{:.1},{:.1} ", self.px(xs[k]), self.py(hi[k]));
            }
            for k in (start..i).rev() {
                let _ = write!(d, "L{:.1},{:.1} ", self.px(xs[k]), self.py(lo[k]));
            }
            let _ = writeln!(self.body, r#"<path d="{d}Z" fill="{fill}" stroke="none"/>"#);
        }
        if let Some(label) = label {
            self.legend_entry(label, vec![Swatch::Fill(fill.to_string())]);
        }
    }

    /// A shaded vertical span from `x_from` to `x_to`, full height.
    pub fn vspan(&mut self, x_from: f64, x_to: f64, fill: &str, label: Option<&str>) {
        let (a, b) = (self.px(x_from), self.px(x_to));
        let _ = writeln!(
            self.body,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}"/>"#,
            a.min(b),
            self.top(),
            (b - a).abs(),
            self.bottom() - self.top()
        );
        if let Some(label) = label {
            self.legend_entry(label, vec![Swatch::Fill(fill.to_string())]);
        }
    }

    /// A marker at each point.
    pub fn markers(
        &mut self,
        xs: &[f64],
        ys: &[f64],
        (marker, color, radius): (Marker, &str, f64),
        label: Option<&str>,
    ) {
        for (&x, &y) in xs.iter().zip(ys) {
            let shape = marker_svg(marker, color, radius, self.px(x), self.py(y));
            self.body.push_str(&shape);
        }
        if let Some(label) = label {
            self.legend_entry(
                label,
                vec![Swatch::Marker(marker, color.to_string(), radius)],
            );
        }
    }

    /// Text at data coordinates `(x, y)` shifted by `(dx, dy)` pixels; `anchor` is
    /// `"start"`, `"middle"` or `"end"`.
    pub fn text(&mut self, (x, y): (f64, f64), (dx, dy): (f64, f64), anchor: &str, text: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{:.1}" y="{:.1}" font-size="{}" text-anchor="{anchor}">{}</text>"#,
            self.px(x) + dx,
            self.py(y) + dy,
            FONT - 1.0,
            escape(text)
        );
    }

    /// A legend entry with several swatches drawn over each other (e.g. a ring
    /// around a dot).
    pub fn legend_entry(&mut self, label: &str, swatches: Vec<Swatch>) {
        self.legend.push((label.to_string(), swatches));
    }

    /// Renders the grid, the drawn elements (clipped to the plot area), the frame,
    /// ticks, title, axis labels and the legend row under the title.
    pub fn render(&self, title: &str, x_label: &str, y_label: &str) -> String {
        let mut s = String::new();
        let (left, right, top, bottom) = (self.left(), self.right(), self.top(), self.bottom());
        let id = format!("clip{}x{}", self.x0 as i64, self.y0 as i64);
        let _ = writeln!(
            s,
            r#"<clipPath id="{id}"><rect x="{left}" y="{top}" width="{}" height="{}"/></clipPath>"#,
            right - left,
            bottom - top
        );
        let x_ticks = self
            .x_ticks
            .clone()
            .unwrap_or_else(|| auto_ticks(self.x_range));
        let y_ticks = auto_ticks(self.y_range);
        for (t, label) in &x_ticks {
            let x = self.px(*t);
            let _ = writeln!(
                s,
                r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{bottom}" stroke="#e6e6e6"/><line x1="{x:.1}" y1="{bottom}" x2="{x:.1}" y2="{}" stroke="black"/><text x="{x:.1}" y="{}" font-size="{}" text-anchor="middle">{}</text>"##,
                bottom + 4.0,
                bottom + 17.0,
                FONT - 1.0,
                escape(label)
            );
        }
        for (t, label) in &y_ticks {
            let y = self.py(*t);
            let _ = writeln!(
                s,
                r##"<line x1="{left}" y1="{y:.1}" x2="{right}" y2="{y:.1}" stroke="#e6e6e6"/><line x1="{}" y1="{y:.1}" x2="{left}" y2="{y:.1}" stroke="black"/><text x="{}" y="{:.1}" font-size="{}" text-anchor="end">{}</text>"##,
                left - 4.0,
                left - 7.0,
                y + 4.0,
                FONT - 1.0,
                escape(label)
            );
        }
        let _ = writeln!(s, r#"<g clip-path="url(#{id})">{}</g>"#, self.body);
        let _ = writeln!(
            s,
            r#"<rect x="{left}" y="{top}" width="{}" height="{}" fill="none" stroke="black"/>"#,
            right - left,
            bottom - top
        );
        let _ = writeln!(
            s,
            r#"<text x="{left}" y="{}" font-size="{}" font-weight="bold">{}</text>"#,
            self.y0 + 17.0,
            FONT + 2.0,
            escape(title)
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" font-size="{FONT}" text-anchor="middle">{}</text>"#,
            (left + right) / 2.0,
            bottom + 34.0,
            escape(x_label)
        );
        let (lx, ly) = (self.x0 + 15.0, (top + bottom) / 2.0);
        let _ = writeln!(
            s,
            r#"<text x="{lx}" y="{ly}" font-size="{FONT}" text-anchor="middle" transform="rotate(-90 {lx} {ly})">{}</text>"#,
            escape(y_label)
        );
        s.push_str(&self.render_legend());
        s
    }

    /// The legend as one row (wrapping if needed) between the title and the plot.
    fn render_legend(&self) -> String {
        let mut s = String::new();
        let mut x = self.left();
        let mut y = self.y0 + 37.0;
        for (label, swatches) in &self.legend {
            let width = 26.0 + text_width(label, FONT - 1.0) + 18.0;
            if x + width > self.right() && x > self.left() {
                x = self.left();
                y += 16.0;
            }
            let (cx, cy) = (x + 9.0, y - 4.0);
            for swatch in swatches {
                match swatch {
                    Swatch::Line { color, width, dash } => {
                        let dash = dash
                            .as_ref()
                            .map(|d| format!(r#" stroke-dasharray="{d}""#))
                            .unwrap_or_default();
                        let _ = writeln!(
                            s,
                            r#"<line x1="{}" y1="{cy}" x2="{}" y2="{cy}" stroke="{color}" stroke-width="{width}"{dash}/>"#,
                            x,
                            x + 18.0
                        );
                    }
                    Swatch::Fill(color) => {
                        let _ = writeln!(
                            s,
                            r##"<rect x="{x}" y="{}" width="18" height="10" fill="{color}" stroke="#888" stroke-width="0.5"/>"##,
                            cy - 5.0
                        );
                    }
                    Swatch::Marker(marker, color, radius) => {
                        s.push_str(&marker_svg(*marker, color, *radius, cx, cy));
                    }
                }
            }
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{y}" font-size="{}">{}</text>"#,
                x + 24.0,
                FONT - 1.0,
                escape(label)
            );
            x += width;
        }
        s
    }
}

fn marker_svg(marker: Marker, color: &str, r: f64, x: f64, y: f64) -> String {
    match marker {
        Marker::Dot => format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="{color}"/>"#),
        Marker::Ring => format!(
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="none" stroke="{color}" stroke-width="2"/>"#
        ),
    }
}

/// Approximate rendered width of `text` in a sans-serif font of `size` pixels.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.6
}

/// Escapes the characters XML gives a meaning to.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// About six round tick positions covering `range`, labelled.
pub fn auto_ticks((a, b): (f64, f64)) -> Vec<(f64, String)> {
    let raw = (b - a) / 6.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    // Enough decimals to tell neighbouring ticks apart.
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let mut out = Vec::new();
    let mut k = (a / step).ceil();
    while k * step <= b + 1e-9 * step {
        let t = k * step;
        let t = if t.abs() < 1e-12 * step { 0.0 } else { t };
        out.push((t, format!("{t:.decimals$}")));
        k += 1.0;
    }
    out
}

/// Wraps rendered panels (and any extra SVG) into a complete document.
pub fn document(width: f64, height: f64, parts: &[String]) -> String {
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="white"/>
"#
    );
    for p in parts {
        s.push_str(p);
    }
    s.push_str("</svg>\n");
    s
}
