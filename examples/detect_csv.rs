//! Flag anomalies in one column of a CSV file: stream the column through an
//! [`AnomalyDetector`] and write one verdict per row as CSV.
//!
//! ```sh
//! cargo run --release --example detect_csv -- data/sample_series.csv --column value --period 24
//! cargo run --release --example detect_csv -- FILE [--column NAME|INDEX] [--no-header]
//!     [--delimiter C] [--risk P] [--exclusion-risk P] [--side upper|lower|both]
//!     [--window N] [--warmup N] [--period N] [--log] [--output OUT.csv]
//! ```
//!
//! Each value is scored against the forecast made before it (see `--help` for every
//! option and the output columns). Empty cells, and `NA`, `NaN` or `null`, are missing
//! values: time moves on, nothing is learned. Bad arguments and bad input (a missing
//! file, an unknown column, a cell that is not a number) end the program with a
//! message and exit status 2. The file is read line by line, so it may be larger than
//! memory; `-` reads standard input.
//!
//! The argument and cell parsing are small functions with tests at the bottom of this
//! file: `cargo test --example detect_csv`.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};

use tailcast::{AnomalyDetector, DetectorConfig, ForecasterConfig, LocationModel, Side, Verdict};

const USAGE: &str = "\
detect_csv: flag anomalies in one column of a CSV file with tailcast's AnomalyDetector

usage: cargo run --release --example detect_csv -- FILE [options]

FILE is a CSV file, or - for standard input. Rows are scored in order, one value per
row, each against the forecast made before it. An empty cell (or NA, NaN, null) is a
missing value.

options:
  --column NAME|INDEX  the column to score: a header name, or a position counting
                       from 1 (default: the only column, else the one named \"value\")
  --no-header          the first line is data, not column names
  --delimiter C        the field separator: one character, or \"tab\" (default ,)
  --risk P             flag a value whose p-value is below P, in (0, 1) (default 0.001)
  --exclusion-risk P   keep a value whose p-value is below P out of the model, so that
                       spikes do not widen the band; in [risk, 1)
                       (default: the larger of the risk and 0.001)
  --side S             which tail counts: upper, lower or both (default both)
  --window N           values the tail model is fitted on (default 1000)
  --warmup N           values collected before the first score
                       (default: the window, clamped to 20..1000)
  --period N           a seasonal period in rows, e.g. 24 for hourly data with a
                       daily cycle (default: no season, a robust level)
  --log                model ln(value): for positive data whose noise grows with
                       the level (p-values are the same, the band is mapped back)
  --output OUT.csv     write the results to OUT.csv instead of standard output
  -h, --help           print this message

output columns:
  index        row number among the data rows, from 0
  value        the value read (empty when missing)
  p_value      its tail probability under the forecast (empty when not scored)
  score        -log10(p_value): 3 means a one-in-a-thousand value
  lower,upper  the band outside which a value is flagged (infinite while warming up)
  is_anomaly   1 when p_value < risk, else 0
  warming_up   1 while the detector collects its warm-up (no score yet), else 0

exit status: 0 on success, 2 for bad arguments or bad input.";

/// Which column to score, as the user wrote it.
#[derive(Debug, Clone, PartialEq)]
enum ColumnSpec {
    /// A header name (or a number, tried as a name first).
    Name(String),
    /// A position counting from 1 (with `--no-header`).
    Index(usize),
}

/// Everything the command line says.
#[derive(Debug, Clone, PartialEq)]
struct Options {
    file: String,
    column: Option<ColumnSpec>,
    header: bool,
    delimiter: char,
    risk: f64,
    exclusion_risk: Option<f64>,
    side: Side,
    window: Option<usize>,
    warmup: Option<usize>,
    period: Option<usize>,
    log: bool,
    output: Option<String>,
}

impl Options {
    fn new(file: String) -> Self {
        Self {
            file,
            column: None,
            header: true,
            delimiter: ',',
            risk: 1e-3,
            exclusion_risk: None,
            side: Side::TwoSided,
            window: None,
            warmup: None,
            period: None,
            log: false,
            output: None,
        }
    }

    /// How messages name the input.
    fn source_name(&self) -> &str {
        if self.file == "-" {
            "standard input"
        } else {
            &self.file
        }
    }

    /// The detector the options describe.
    fn detector(&self) -> Result<AnomalyDetector, Failure> {
        let mut forecaster = ForecasterConfig::default();
        if let Some(n) = self.window {
            forecaster = forecaster.window(n);
        }
        if let Some(n) = self.warmup {
            forecaster = forecaster.warmup(n);
        }
        if let Some(period) = self.period {
            forecaster = forecaster.location(LocationModel::Seasonal { period });
        }
        let mut config = DetectorConfig::default()
            .forecaster(forecaster)
            .risk(self.risk)
            .side(self.side);
        if let Some(p) = self.exclusion_risk {
            config = config.exclusion_risk(p);
        }
        AnomalyDetector::new(config).map_err(|e| Failure::usage(format!("invalid option: {e}")))
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
enum Command {
    Help,
    Run(Options),
}

/// Why the program stops early. Every kind exits with status 2, except a closed
/// output pipe (`| head`), which is a normal end.
#[derive(Debug)]
enum Failure {
    /// Bad arguments: the message is followed by a hint to `--help`.
    Usage(String),
    /// Bad input data or files.
    Input(String),
    /// Writing the output failed.
    Output(io::Error),
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }
    fn input(message: impl Into<String>) -> Self {
        Self::Input(message.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(m) => write!(f, "{m}\n(run with --help for usage)"),
            Self::Input(m) => f.write_str(m),
            Self::Output(e) => write!(f, "cannot write the output: {e}"),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Self::Output(e)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match parse_args(&args) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            Ok(())
        }
        Ok(Command::Run(options)) => run_files(&options),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {}
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            eprintln!("detect_csv: error: {e}");
            std::process::exit(2);
        }
    }
}

/// Parses the arguments after the program name. `--name value` and `--name=value`
/// are both accepted.
fn parse_args(args: &[String]) -> Result<Command, Failure> {
    // Asking for help is never an error, whatever else is on the line.
    if args.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Command::Help);
    }
    let mut file = None;
    let mut o = Options::new(String::new());
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        i += 1;
        if !arg.starts_with("--") || arg == "-" {
            if let Some(first) = &file {
                return Err(Failure::usage(format!(
                    "one FILE only: got {first:?} and {arg:?}"
                )));
            }
            file = Some(arg.to_string());
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (arg, None),
        };
        if name == "--no-header" || name == "--log" {
            if inline.is_some() {
                return Err(Failure::usage(format!("{name} takes no value")));
            }
            if name == "--log" {
                o.log = true;
            } else {
                o.header = false;
            }
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => {
                let v = args
                    .get(i)
                    .ok_or_else(|| Failure::usage(format!("{name} needs a value")))?;
                i += 1;
                v.clone()
            }
        };
        match name {
            "--column" => o.column = Some(parse_column_spec(&value)?),
            "--delimiter" => o.delimiter = parse_delimiter(&value)?,
            "--risk" => o.risk = parse_probability("--risk", &value)?,
            "--exclusion-risk" => {
                o.exclusion_risk = Some(parse_probability("--exclusion-risk", &value)?);
            }
            "--side" => o.side = parse_side(&value)?,
            "--window" => o.window = Some(parse_count("--window", &value, 1)?),
            "--warmup" => o.warmup = Some(parse_count("--warmup", &value, 2)?),
            "--period" => o.period = Some(parse_count("--period", &value, 2)?),
            "--output" => o.output = Some(value),
            _ => return Err(Failure::usage(format!("unknown option {name}"))),
        }
    }
    o.file = file.ok_or_else(|| Failure::usage("no FILE given"))?;
    if let Some(p) = o.exclusion_risk
        && p < o.risk
    {
        return Err(Failure::usage(format!(
            "--exclusion-risk must be at least --risk ({}), got {p}",
            o.risk
        )));
    }
    if !o.header && matches!(&o.column, Some(ColumnSpec::Name(_))) {
        return Err(Failure::usage(
            "--column NAME needs a header: with --no-header give the column's position (from 1)",
        ));
    }
    Ok(Command::Run(o))
}

/// A column name, or a position when it is a whole number (a header may still have a
/// column with that name: names are tried first).
fn parse_column_spec(value: &str) -> Result<ColumnSpec, Failure> {
    if value.is_empty() {
        return Err(Failure::usage("--column needs a name or a position"));
    }
    Ok(match value.parse::<usize>() {
        Ok(0) => {
            return Err(Failure::usage("--column positions count from 1, got 0"));
        }
        Ok(n) => ColumnSpec::Index(n),
        Err(_) => ColumnSpec::Name(value.to_string()),
    })
}

fn parse_delimiter(value: &str) -> Result<char, Failure> {
    let c = match value {
        "tab" | "\\t" => '\t',
        _ => {
            let mut chars = value.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(Failure::usage(format!(
                        "--delimiter must be one character or \"tab\", got {value:?}"
                    )));
                }
            }
        }
    };
    if c == '"' || c == '\n' || c == '\r' {
        return Err(Failure::usage(format!(
            "--delimiter cannot be {c:?} (quotes and line breaks are taken)"
        )));
    }
    Ok(c)
}

fn parse_probability(name: &str, value: &str) -> Result<f64, Failure> {
    match value.trim().parse::<f64>() {
        Ok(p) if p > 0.0 && p < 1.0 => Ok(p),
        _ => Err(Failure::usage(format!(
            "{name} must be a probability in (0, 1), got {value:?}"
        ))),
    }
}

fn parse_side(value: &str) -> Result<Side, Failure> {
    match value {
        "upper" | "high" => Ok(Side::Upper),
        "lower" | "low" => Ok(Side::Lower),
        "both" | "two-sided" => Ok(Side::TwoSided),
        _ => Err(Failure::usage(format!(
            "--side must be upper, lower or both, got {value:?}"
        ))),
    }
}

fn parse_count(name: &str, value: &str, min: usize) -> Result<usize, Failure> {
    match value.trim().parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(Failure::usage(format!(
            "{name} must be a whole number >= {min}, got {value:?}"
        ))),
    }
}

/// Splits one CSV line into fields. Fields may be quoted (`"a,b"`, with `""` for a
/// quote inside); unquoted fields are trimmed. A quoted field cannot span lines.
fn split_record(line: &str, delimiter: char) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        // One field.
        while chars
            .next_if(|&c| c != delimiter && (c == ' ' || c == '\t'))
            .is_some()
        {}
        let mut field = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    Some('"') if chars.next_if_eq(&'"').is_some() => field.push('"'),
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("a quoted field is not closed".to_string()),
                }
            }
            while chars.next_if(|&c| c != delimiter).is_some() {}
        } else {
            while let Some(c) = chars.next_if(|&c| c != delimiter) {
                field.push(c);
            }
            field.truncate(field.trim_end().len());
        }
        fields.push(field);
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}

/// A cell's value: `None` when missing (empty, `NA`, `N/A`, `NaN`, `null`),
/// an error message when it is not a finite number.
fn parse_cell(cell: &str) -> Result<Option<f64>, String> {
    let cell = cell.trim();
    if cell.is_empty()
        || ["na", "n/a", "nan", "null"]
            .iter()
            .any(|m| cell.eq_ignore_ascii_case(m))
    {
        return Ok(None);
    }
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        Ok(_) => Err(format!(
            "{cell:?} is not a finite number (leave the cell empty for a missing value)"
        )),
        Err(_) => Err(format!("{cell:?} is not a number")),
    }
}

/// The column to score, as a 0-based position, and its name for messages.
fn resolve_column(
    header: Option<&[String]>,
    columns: usize,
    spec: Option<&ColumnSpec>,
) -> Result<(usize, String), Failure> {
    let name_of = |i: usize| match header {
        Some(h) => format!("{:?}", h[i]),
        None => format!("{}", i + 1),
    };
    let list = || match header {
        Some(h) => h
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        None => format!("{columns} unnamed columns"),
    };
    let index = match spec {
        Some(ColumnSpec::Name(name)) => {
            let h = header.unwrap_or_default();
            h.iter().position(|n| n == name).ok_or_else(|| {
                Failure::input(format!(
                    "unknown column {name:?}; the columns are {}",
                    list()
                ))
            })?
        }
        Some(&ColumnSpec::Index(n)) => {
            // A header name that is a number wins over the position.
            let named = header.and_then(|h| h.iter().position(|c| *c == n.to_string()));
            match named {
                Some(i) => i,
                None if n <= columns => n - 1,
                None => {
                    return Err(Failure::input(format!(
                        "there is no column {n}: the file has {columns} ({})",
                        list()
                    )));
                }
            }
        }
        None if columns == 1 => 0,
        None => header
            .and_then(|h| h.iter().position(|n| n.eq_ignore_ascii_case("value")))
            .ok_or_else(|| {
                Failure::input(format!(
                    "the file has {columns} columns ({}); choose one with --column",
                    list()
                ))
            })?,
    };
    Ok((index, name_of(index)))
}

/// Counts of what [`run`] saw.
#[derive(Debug, Default, PartialEq)]
struct Summary {
    rows: usize,
    warming_up: usize,
    missing: usize,
    anomalies: usize,
    column: String,
}

/// Opens the input and output the options name and runs.
fn run_files(options: &Options) -> Result<(), Failure> {
    let input: Box<dyn BufRead> = if options.file == "-" {
        Box::new(io::stdin().lock())
    } else {
        let file = File::open(&options.file)
            .map_err(|e| Failure::input(format!("cannot open {}: {e}", options.file)))?;
        Box::new(BufReader::new(file))
    };
    let destination = match options.output.as_deref() {
        None | Some("-") => None,
        Some(path) => Some(path),
    };
    let open_output = || -> Result<BufWriter<Box<dyn Write>>, Failure> {
        let sink: Box<dyn Write> = match destination {
            None => Box::new(io::stdout().lock()),
            Some(path) => Box::new(
                File::create(path)
                    .map_err(|e| Failure::input(format!("cannot create {path}: {e}")))?,
            ),
        };
        Ok(BufWriter::new(sink))
    };
    let (summary, _) = run(input, open_output, options)?;
    eprintln!(
        "detect_csv: column {} of {}: {} rows ({} warming up, {} missing), {} anomalies at risk {} -> {}",
        summary.column,
        options.source_name(),
        summary.rows,
        summary.warming_up,
        summary.missing,
        summary.anomalies,
        options.risk,
        destination.unwrap_or("standard output")
    );
    Ok(())
}

const OUTPUT_HEADER: &str = "index,value,p_value,score,lower,upper,is_anomaly,warming_up";

/// Streams the chosen column of `input` through the detector and writes one CSV row
/// per data row to the writer `open_output` returns, which is called once the column
/// is known to exist (so a typo in `--column` creates no output file). Returns the
/// counts and the flushed writer. After an error in the data, the rows before it
/// have been written.
fn run<W: Write>(
    mut input: impl BufRead,
    mut open_output: impl FnMut() -> Result<W, Failure>,
    options: &Options,
) -> Result<(Summary, W), Failure> {
    let mut detector = options.detector()?;
    let source = options.source_name();
    let mut buffer = Vec::new();
    let mut line_no = 0;
    // Reads the next line (without its line break); `None` at the end.
    let mut next_line = |line_no: &mut usize| -> Result<Option<String>, Failure> {
        buffer.clear();
        let read = input
            .read_until(b'\n', &mut buffer)
            .map_err(|e| Failure::input(format!("cannot read {source}: {e}")))?;
        if read == 0 {
            return Ok(None);
        }
        *line_no += 1;
        let text = String::from_utf8_lossy(&buffer);
        Ok(Some(text.trim_end_matches(['\n', '\r']).to_string()))
    };
    let at = |line_no: usize, message: String| {
        Failure::input(format!("{source}, line {line_no}: {message}"))
    };
    let mut start_output = || -> Result<W, Failure> {
        let mut w = open_output()?;
        writeln!(w, "{OUTPUT_HEADER}")?;
        Ok(w)
    };

    let header = if options.header {
        let line =
            next_line(&mut line_no)?.ok_or_else(|| Failure::input(format!("{source} is empty")))?;
        Some(split_record(&line, options.delimiter).map_err(|m| at(line_no, m))?)
    } else {
        None
    };
    // With a header the column is checked before anything is written; without one,
    // at the first data row (which tells how many columns there are).
    let mut column = match &header {
        Some(h) => Some(resolve_column(Some(h), h.len(), options.column.as_ref())?),
        None => None,
    };
    let mut output = match column {
        Some(_) => Some(start_output()?),
        None => None,
    };
    let mut summary = Summary::default();
    // Blank lines are missing values, unless they trail at the end of the file.
    let mut pending_blank = 0;
    while let Some(line) = next_line(&mut line_no)? {
        if line.trim().is_empty() {
            pending_blank += 1;
            continue;
        }
        let fields = split_record(&line, options.delimiter).map_err(|m| at(line_no, m))?;
        let (index, name) = match &column {
            Some(c) => c,
            None => column.insert(resolve_column(None, fields.len(), options.column.as_ref())?),
        };
        let out = match &mut output {
            Some(o) => o,
            None => output.insert(start_output()?),
        };
        for _ in 0..std::mem::take(&mut pending_blank) {
            score(&mut detector, None, options.log, out, &mut summary)?;
        }
        // A short row has its cell missing.
        let value = match fields.get(*index) {
            Some(cell) => {
                parse_cell(cell).map_err(|m| at(line_no, format!("column {name}: {m}")))?
            }
            None => None,
        };
        if options.log
            && let Some(v) = value
            && v <= 0.0
        {
            return Err(at(
                line_no,
                format!("column {name}: --log needs positive values, got {v}"),
            ));
        }
        score(&mut detector, value, options.log, out, &mut summary)?;
    }
    let mut output = match output {
        Some(o) => o,
        None => start_output()?,
    };
    output.flush()?;
    summary.column = column.map_or_else(String::new, |(_, name)| name);
    Ok((summary, output))
}

/// Scores one value (`None` = missing) and writes its row.
/// With `log`, the detector sees `ln(value)` (the caller has checked it is positive)
/// and the band is mapped back.
fn score(
    detector: &mut AnomalyDetector,
    value: Option<f64>,
    log: bool,
    output: &mut impl Write,
    summary: &mut Summary,
) -> Result<(), Failure> {
    let modelled = value.map_or(f64::NAN, |v| if log { v.ln() } else { v });
    // The cell parser lets only finite numbers through, which `update` accepts.
    let mut verdict: Verdict = detector
        .update(modelled)
        .map_err(|e| Failure::input(e.to_string()))?;
    if log {
        verdict.lower = verdict.lower.exp();
        verdict.upper = verdict.upper.exp();
    }
    writeln!(
        output,
        "{},{},{},{},{},{},{},{}",
        summary.rows,
        value.map_or_else(String::new, fmt_value),
        fmt_short(verdict.p_value),
        fmt_short(verdict.score),
        fmt_short(verdict.lower),
        fmt_short(verdict.upper),
        u8::from(verdict.is_anomaly),
        u8::from(verdict.warming_up),
    )?;
    summary.rows += 1;
    summary.warming_up += usize::from(verdict.warming_up);
    summary.missing += usize::from(verdict.missing);
    summary.anomalies += usize::from(verdict.is_anomaly);
    Ok(())
}

/// A number as written back: exact (shortest round trip), in exponent form when very
/// large or small; `inf`/`-inf`; empty for NaN.
fn fmt_value(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if x == 0.0 || (1e-4..1e15).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// A derived number with six significant digits; `inf`; empty for NaN.
fn fmt_short(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if x == 0.0 {
        "0".to_string()
    } else if (1e-3..1e6).contains(&x.abs()) {
        let decimals = (5 - x.abs().log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.decimals$}");
        // Trailing zeros carry nothing here.
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{x:.5e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn options(s: &str) -> Options {
        match parse_args(&args(s)) {
            Ok(Command::Run(o)) => o,
            other => panic!("{s:?} parsed as {other:?}"),
        }
    }

    fn usage_error(s: &str) -> String {
        match parse_args(&args(s)) {
            Err(Failure::Usage(m)) => m,
            other => panic!("{s:?} should be a usage error, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        assert_eq!(options("data.csv"), Options::new("data.csv".to_string()));
        assert_eq!(options("-").file, "-");
    }

    #[test]
    fn every_option_both_spellings() {
        let o = options(
            "x.tsv --column=3 --no-header --delimiter tab --risk 1e-4 --side upper \
             --window 500 --warmup=100 --period 24 --log --output out.csv \
             --exclusion-risk=0.01",
        );
        assert_eq!(o.file, "x.tsv");
        assert_eq!(o.column, Some(ColumnSpec::Index(3)));
        assert!(!o.header);
        assert_eq!(o.delimiter, '\t');
        assert_eq!(o.risk, 1e-4);
        assert_eq!(o.exclusion_risk, Some(0.01));
        let config = o.detector().unwrap().config().clone();
        assert_eq!(config.exclusion_level(), 0.01);
        assert_eq!(o.side, Side::Upper);
        assert_eq!(
            (o.window, o.warmup, o.period),
            (Some(500), Some(100), Some(24))
        );
        assert_eq!(o.output.as_deref(), Some("out.csv"));
        assert!(o.log);
        assert_eq!(
            options("f --column=value").column,
            Some(ColumnSpec::Name("value".into()))
        );
        assert_eq!(options("f --delimiter ;").delimiter, ';');
        assert_eq!(options("f --side both").side, Side::TwoSided);
        assert_eq!(options("f --side lower").side, Side::Lower);
    }

    #[test]
    fn help_wins() {
        assert_eq!(
            parse_args(&args("f --risk 7 --help")).unwrap(),
            Command::Help
        );
        assert_eq!(parse_args(&args("-h")).unwrap(), Command::Help);
        assert!(USAGE.contains("--exclusion-risk P"));
    }

    #[test]
    fn bad_arguments_name_the_option_and_value() {
        assert!(usage_error("").contains("no FILE"));
        assert!(usage_error("a.csv b.csv").contains("one FILE only"));
        assert!(usage_error("f --bogus 1").contains("unknown option --bogus"));
        assert!(usage_error("f --risk").contains("--risk needs a value"));
        for bad in ["0", "1", "1.5", "-0.1", "abc", "NaN"] {
            let m = usage_error(&format!("f --risk {bad}"));
            assert!(
                m.contains("--risk must be a probability in (0, 1)") && m.contains(bad),
                "{m}"
            );
        }
        assert!(usage_error("f --exclusion-risk").contains("--exclusion-risk needs a value"));
        for bad in ["0", "1", "2", "-1e-3", "x", "inf"] {
            let m = usage_error(&format!("f --exclusion-risk {bad}"));
            assert!(
                m.contains("--exclusion-risk must be a probability in (0, 1)") && m.contains(bad),
                "{m}"
            );
        }
        let m = usage_error("f --risk 0.01 --exclusion-risk 0.001");
        assert!(
            m.contains("--exclusion-risk must be at least --risk (0.01), got 0.001"),
            "{m}"
        );
        assert_eq!(
            options("f --exclusion-risk 0.01 --risk 0.01").exclusion_risk,
            Some(0.01)
        );
        assert!(usage_error("f --side middle").contains("upper, lower or both, got \"middle\""));
        assert!(usage_error("f --window 0").contains("--window must be a whole number >= 1"));
        assert!(usage_error("f --window -5").contains("got \"-5\""));
        assert!(usage_error("f --period 1").contains(">= 2"));
        assert!(usage_error("f --delimiter ab").contains("one character"));
        assert!(usage_error("f --delimiter \"").contains("cannot be"));
        assert!(usage_error("f --column 0").contains("count from 1"));
        assert!(usage_error("f --no-header --column value").contains("needs a header"));
        assert!(usage_error("f --no-header=yes").contains("takes no value"));
    }

    #[test]
    fn invalid_configuration_is_a_usage_error() {
        // Accepted by the parser, rejected by the library's validation.
        let o = options("f --window 50 --warmup 10 --period 24");
        assert!(
            o.detector().is_ok(),
            "the warm-up is raised to three periods"
        );
        let mut o = options("f");
        o.window = Some(usize::MAX);
        assert!(matches!(o.detector(), Err(Failure::Usage(m)) if m.contains("window")));
    }

    #[test]
    fn split_plain_quoted_and_broken_records() {
        let s = |l: &str| split_record(l, ',').unwrap();
        assert_eq!(s("a,b,c"), ["a", "b", "c"]);
        assert_eq!(s(" a , b ,"), ["a", "b", ""]);
        assert_eq!(s(""), [""]);
        assert_eq!(s("\"x, y\",2"), ["x, y", "2"]);
        assert_eq!(s("\"say \"\"hi\"\"\",3"), ["say \"hi\"", "3"]);
        assert_eq!(split_record("a\tb\t", '\t').unwrap(), ["a", "b", ""]);
        assert_eq!(split_record("1;2,5", ';').unwrap(), ["1", "2,5"]);
        assert_eq!(split_record("1 2  3", ' ').unwrap(), ["1", "2", "", "3"]);
        assert!(
            split_record("\"open,1", ',')
                .unwrap_err()
                .contains("not closed")
        );
    }

    #[test]
    fn cells() {
        assert_eq!(parse_cell(" 2.5 "), Ok(Some(2.5)));
        assert_eq!(parse_cell("-1e3"), Ok(Some(-1000.0)));
        for missing in ["", "  ", "NA", "n/a", "NaN", "nan", "NULL"] {
            assert_eq!(parse_cell(missing), Ok(None), "{missing:?}");
        }
        assert!(
            parse_cell("abc")
                .unwrap_err()
                .contains("\"abc\" is not a number")
        );
        assert!(
            parse_cell("inf")
                .unwrap_err()
                .contains("not a finite number")
        );
        assert!(
            parse_cell("1e400")
                .unwrap_err()
                .contains("not a finite number")
        );
    }

    #[test]
    fn columns_by_name_position_and_default() {
        let h: Vec<String> = ["t", "value", "2"].map(String::from).to_vec();
        let r = |spec: Option<ColumnSpec>| resolve_column(Some(&h), 3, spec.as_ref());
        assert_eq!(r(Some(ColumnSpec::Name("t".into()))).unwrap().0, 0);
        assert_eq!(
            r(Some(ColumnSpec::Index(2))).unwrap().0,
            2,
            "the name \"2\" wins"
        );
        assert_eq!(r(Some(ColumnSpec::Index(1))).unwrap().0, 0);
        assert_eq!(r(None).unwrap(), (1, "\"value\"".to_string()));
        let Err(Failure::Input(m)) = r(Some(ColumnSpec::Name("vlaue".into()))) else {
            panic!()
        };
        assert!(m.contains("unknown column \"vlaue\"") && m.contains("\"t\", \"value\", \"2\""));
        let Err(Failure::Input(m)) = r(Some(ColumnSpec::Index(4))) else {
            panic!()
        };
        assert!(m.contains("no column 4"), "{m}");
        // Without a header or a "value" column the default must be unambiguous.
        assert_eq!(resolve_column(None, 1, None).unwrap(), (0, "1".to_string()));
        assert!(resolve_column(None, 2, None).is_err());
        assert_eq!(
            resolve_column(None, 2, Some(&ColumnSpec::Index(2)))
                .unwrap()
                .0,
            1
        );
    }

    #[test]
    fn numbers_are_written_back_readably() {
        assert_eq!(fmt_value(608.4398), "608.4398");
        assert_eq!(fmt_value(f64::NAN), "");
        assert_eq!(fmt_value(f64::NEG_INFINITY), "-inf");
        assert_eq!(fmt_value(1e-30), "1e-30");
        assert_eq!(fmt_short(0.361528395), "0.361528");
        assert_eq!(fmt_short(0.5), "0.5");
        assert_eq!(fmt_short(3.0), "3");
        assert_eq!(fmt_short(18.4412345), "18.4412");
        assert_eq!(fmt_short(2.345e-7), "2.34500e-7");
        assert_eq!(fmt_short(f64::INFINITY), "inf");
    }

    /// A series with a spike, a missing cell and a short row, through the whole
    /// pipeline.
    fn sample_csv() -> String {
        let mut csv = String::from("t,\"value\",note\n");
        for t in 0..300 {
            let y = 10.0 + ((t * 7919) % 101) as f64 / 100.0;
            let cell = match t {
                250 => "60".to_string(),
                260 => String::new(),
                _ => y.to_string(),
            };
            if t == 270 {
                csv.push_str("270\n");
            } else {
                csv.push_str(&format!("{t},{cell},x\n"));
            }
        }
        csv.push_str("\n\n"); // trailing blank lines are not rows
        csv
    }

    #[test]
    fn end_to_end() {
        let mut o = options("mem.csv --window 100");
        o.column = Some(ColumnSpec::Name("value".into()));
        let (summary, out) = run(sample_csv().as_bytes(), || Ok(Vec::new()), &o).unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
        assert_eq!(
            rows[0].join(","),
            "index,value,p_value,score,lower,upper,is_anomaly,warming_up"
        );
        assert_eq!(rows.len(), 301);
        assert_eq!(summary.rows, 300);
        assert_eq!(summary.warming_up, 100);
        assert_eq!(summary.missing, 2);
        assert_eq!(summary.column, "\"value\"");
        // Warm-up rows: no score, infinite band.
        assert_eq!(rows[1][2..].join(","), ",,-inf,inf,0,1");
        // The spike is flagged with a tiny p-value.
        let spike = &rows[251];
        assert_eq!(
            (spike[0], spike[1], spike[6], spike[7]),
            ("250", "60", "1", "0")
        );
        assert!(spike[2].parse::<f64>().unwrap() < 1e-3);
        // The missing cell and the short row are missing values.
        for r in [261, 271] {
            assert_eq!(&rows[r][1..4], ["", "", ""], "row {r}");
            assert_eq!(rows[r][6], "0");
        }
        assert_eq!(
            summary.anomalies,
            rows.iter().filter(|r| r[6] == "1").count()
        );
    }

    #[test]
    fn bad_cells_and_columns_say_where() {
        let o = options("mem.csv --column value");
        let csv = "t,value\n0,1.5\n1,abc\n";
        let Err(Failure::Input(m)) = run(csv.as_bytes(), || Ok(Vec::new()), &o) else {
            panic!()
        };
        assert_eq!(
            m,
            "mem.csv, line 3: column \"value\": \"abc\" is not a number"
        );
        // A bad column is found before the output is opened.
        let o = options("mem.csv --column price");
        let refuse = || -> Result<Vec<u8>, Failure> { panic!("output opened") };
        let Err(Failure::Input(m)) = run("t,value\n0,1\n".as_bytes(), refuse, &o) else {
            panic!()
        };
        assert!(m.starts_with("unknown column \"price\""), "{m}");
        let Err(Failure::Input(m)) = run("".as_bytes(), refuse, &o) else {
            panic!()
        };
        assert_eq!(m, "mem.csv is empty");
        let o = options("mem.csv --log");
        let Err(Failure::Input(m)) = run("v\n1\n0\n".as_bytes(), || Ok(Vec::new()), &o) else {
            panic!()
        };
        assert_eq!(
            m,
            "mem.csv, line 3: column \"v\": --log needs positive values, got 0"
        );
        // No data rows: just the header.
        let o = options("mem.csv");
        let (summary, out) = run("t,value\n".as_bytes(), || Ok(Vec::new()), &o).unwrap();
        assert_eq!(
            (summary.rows, out),
            (0, format!("{OUTPUT_HEADER}\n").into_bytes())
        );
    }

    #[test]
    fn log_scale_band_is_mapped_back() {
        let o = options("mem.csv --log --window 50");
        let csv: String = std::iter::once("v\n".to_string())
            .chain((0..120).map(|t| format!("{}\n", 100.0 + ((t * 37) % 17) as f64)))
            .collect();
        let (summary, out) = run(csv.as_bytes(), || Ok(Vec::new()), &o).unwrap();
        assert_eq!(summary.rows, 120);
        let text = String::from_utf8(out).unwrap();
        for line in text.lines().skip(1 + 50) {
            let f: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
            // The band is on the original scale around the data (100 to 116); on the
            // log scale it would be near 4.6.
            assert!(
                f[4] > 50.0 && f[4] < 108.0 && f[5] > 108.0 && f[5] < 200.0,
                "{line}"
            );
        }
    }

    #[test]
    fn no_header_and_other_delimiters() {
        let o = options("mem.csv --no-header --delimiter ; --column 2 --window 20");
        let csv: String = (0..50)
            .map(|t| format!("{t};{}\n", (t % 7) as f64))
            .collect();
        let (summary, out) = run(csv.as_bytes(), || Ok(Vec::new()), &o).unwrap();
        assert_eq!(summary.rows, 50);
        assert_eq!(summary.column, "2");
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().nth(4).unwrap().split(',').nth(1), Some("3"));
    }
}
