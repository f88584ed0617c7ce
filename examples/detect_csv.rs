//! Flag anomalies in one column of a CSV file: stream the column through an
//! [`AnomalyDetector`] and write one verdict per row as CSV, and optionally the
//! anomaly events (runs of nearby alarms, see [`tailcast::events`]).
//!
//! ```sh
//! cargo run --release --example detect_csv -- data/sample_series.csv --column value --period 24
//! cargo run --release --example detect_csv -- FILE [--column NAME|INDEX] [--no-header]
//!     [--delimiter C] [--risk P] [--exclusion-risk P] [--side upper|lower|both]
//!     [--window N] [--warmup N] [--period N|DURATION] [--time-column NAME|INDEX]
//!     [--log] [--predictive-tails] [--output OUT.csv] [--events EVENTS.csv] [--rearm N]
//! ```
//!
//! Each value is scored against the forecast made before it (see `--help` for every
//! option and the output columns). Empty cells, and `NA`, `NaN` or `null`, are missing
//! values: time moves on, nothing is learned. Bad arguments and bad input (a missing
//! file, an unknown column, a cell that is not a number) end the program with a
//! message and exit status 2. The file is streamed, so it may be larger than memory
//! (only the first rows are buffered, to infer the sampling interval for a period
//! given as a duration); `-` reads standard input.
//!
//! CSV is read with the `csv` crate (quoted fields may span lines; a UTF-8 byte-order
//! mark is skipped; `\n`, `\r\n` and `\r` line ends are all accepted) and the
//! arguments with `lexopt`. The parsing helpers have tests at the bottom of this file:
//! `cargo test --example detect_csv`.

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufWriter, Read, Write};

use tailcast::Check;
use tailcast::events::{Event, EventConfig, EventTracker};
use tailcast::{AnomalyDetector, DetectorConfig, ForecasterConfig, LocationModel, Side, Verdict};

const USAGE: &str = "\
detect_csv: flag anomalies in one column of a CSV file with tailcast's AnomalyDetector

usage: cargo run --release --example detect_csv -- FILE [options]

FILE is a CSV file, or - for standard input. Rows are scored in order, one value per
row, each against the forecast made before it. An empty cell (or NA, NaN, null) is a
missing value.

options:
  --column NAME|INDEX  the column to score: a header name, or a position counting
                       from 1 (default: the only column other than the time column,
                       else the one named \"value\")
  --time-column NAME|INDEX
                       the column of timestamps: seconds since 1970, or dates like
                       2014-02-14, 2014-02-14 14:30:00 or 2014-02-14T14:30:00Z; it
                       lets --period be a duration and labels the events
  --no-header          the first line is data, not column names
  --delimiter C        the field separator: one ASCII character, or \"tab\" (default ,)
  --risk P             flag a value whose p-value is below P, in (0, 1) (default 0.001)
  --exclusion-risk P   keep a value whose p-value is below P out of the model, so that
                       spikes do not widen the band; in [risk, 1)
                       (default: the larger of the risk and 0.001)
  --side S             which tail counts: upper, lower or both (default both)
  --window N           values the tail model is fitted on (default 1000)
  --warmup N           values collected before the first score, at most 10000000
                       (default: the window, clamped to 20..1000, and for a file at
                       most 15 % of its rows but at least 100, so that a short file
                       is mostly scored)
  --period N|DURATION  a seasonal period: in rows (24 for hourly data with a daily
                       cycle), or with --time-column a duration such as 30m, 1h, 1d
                       or 7d (also s and w), converted to rows with the sampling
                       interval (the median step of the first 101 timestamps); it
                       must be a whole number of intervals, within 1 % of one
                       (default: chosen from the data: a robust level, an
                       autoregression or a season found in the warm-up, and chosen
                       again after 4 and 16 warm-ups). The warm-up lasts at least
                       three periods.
  --log                model ln(value): for positive data whose noise grows with
                       the level (p-values are the same, the band is mapped back)
  --predictive-tails   score with the tails averaged over their fit's uncertainty:
                       about as many alarms as the risk level on heavy-tailed data
                       (twice as many without), but anomalies that are frequent and
                       moderate are learned sooner (off by default)
  --output OUT.csv     write the results to OUT.csv instead of standard output
  --events EVENTS.csv  also write the anomaly events (runs of nearby alarms) to
                       EVENTS.csv and print a summary of them
  --rearm N            an event ends after N consecutive scored rows without an
                       alarm (missing values do not count) (default 10)
  -h, --help           print this message

output columns:
  index        row number among the data rows, from 0
  value        the value read (empty when missing)
  p_value      its tail probability under the forecast (empty when not scored)
  score        -log10(p_value): 3 means a one-in-a-thousand value
  lower,upper  the band outside which a value is flagged (infinite while warming up)
  is_anomaly   1 when p_value < risk, else 0
  warming_up   1 while the detector collects its warm-up (no score yet), else 0

events columns (--events):
  start,end    index of the event's first and last alarm
  peak         index of its highest score
  peak_score   that score, and peak_p_value its p-value
  side         upper (too high), lower (too low), or both
  alarms       number of flagged rows in the event
  start_time,end_time,peak_time
               the timestamps of start, end and peak (with --time-column only)

exit status: 0 on success, 2 for bad arguments or bad input.";

/// The longest warm-up accepted, in rows: longer, and the detector would in practice
/// never start scoring.
const MAX_WARMUP: usize = 10_000_000;

/// At most this many data rows are buffered to infer the sampling interval.
const INFER_ROWS: usize = 1000;

/// The interval is the median of the steps between this many first timestamps.
const INFER_TIMESTAMPS: usize = 101;

/// How many of the largest events the summary lists.
const LARGEST_EVENTS: usize = 5;

/// Which column to score, as the user wrote it.
#[derive(Debug, Clone, PartialEq)]
enum ColumnSpec {
    /// A header name (or a number, tried as a name first).
    Name(String),
    /// A position counting from 1 (with `--no-header`).
    Index(usize),
}

/// A seasonal period, as the user wrote it.
#[derive(Debug, Clone, PartialEq)]
enum Period {
    /// In rows.
    Rows(usize),
    /// A duration in seconds (converted to rows with the sampling interval), and the
    /// text it was written as.
    Duration(f64, String),
}

/// Everything the command line says.
#[derive(Debug, Clone, PartialEq)]
struct Options {
    file: String,
    column: Option<ColumnSpec>,
    time_column: Option<ColumnSpec>,
    header: bool,
    delimiter: u8,
    risk: f64,
    exclusion_risk: Option<f64>,
    side: Side,
    window: Option<usize>,
    warmup: Option<usize>,
    period: Option<Period>,
    log: bool,
    predictive_tails: bool,
    output: Option<String>,
    events: Option<String>,
    rearm: usize,
    /// The number of data rows, when the input is a file (counted before the run).
    rows: Option<usize>,
}

/// Without `--warmup`, a file's warm-up is at most this share of its rows ...
const SHORT_FILE_WARMUP_SHARE: f64 = 0.15;
/// ... but not under this many rows.
const SHORT_FILE_MIN_WARMUP: usize = 100;

impl Options {
    fn new(file: String) -> Self {
        Self {
            file,
            column: None,
            time_column: None,
            header: true,
            delimiter: b',',
            risk: 1e-3,
            exclusion_risk: None,
            side: Side::TwoSided,
            window: None,
            warmup: None,
            period: None,
            log: false,
            predictive_tails: false,
            output: None,
            events: None,
            rearm: tailcast::events::DEFAULT_REARM,
            rows: None,
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

    /// The detector the options describe, with the period resolved to rows.
    fn detector(&self, period: Option<usize>) -> Result<AnomalyDetector, Failure> {
        let checked = |c: &ForecasterConfig| {
            c.check()
                .map_err(|e| Failure::usage(format!("invalid option: {e}")))
        };
        // The detector's default forecaster (its tail-shape bound is the detector's).
        let mut forecaster = DetectorConfig::default_forecaster();
        if let Some(n) = self.window {
            forecaster = forecaster.window(n);
        }
        if let Some(n) = self.warmup {
            forecaster = forecaster.warmup(n);
        }
        if let Some(period) = period {
            forecaster = forecaster.location(LocationModel::Seasonal { period });
        }
        // A short file is mostly scored: the default warm-up (up to 1,000 rows)
        // would leave most of a 1,500-row file unscored.
        if let (None, Some(rows)) = (self.warmup, self.rows) {
            let short =
                ((rows as f64 * SHORT_FILE_WARMUP_SHARE) as usize).max(SHORT_FILE_MIN_WARMUP);
            if short < checked(&forecaster)?.warmup() {
                forecaster = forecaster.warmup(short);
            }
        }
        let warmup = checked(&forecaster)?.warmup();
        if warmup > MAX_WARMUP {
            return Err(Failure::usage(format!(
                "the warm-up would be {warmup} rows (three periods of {} rows), more than \
                 {MAX_WARMUP}: scoring would never start; give a shorter --period",
                period.unwrap_or(0)
            )));
        }
        let mut config = DetectorConfig::default()
            .forecaster(forecaster)
            .risk(self.risk)
            .side(self.side)
            .predictive_tails(self.predictive_tails);
        if let Some(p) = self.exclusion_risk {
            config = config.exclusion_risk(p);
        }
        AnomalyDetector::new(config).map_err(|e| Failure::usage(format!("invalid option: {e}")))
    }

    /// The event grouping the options describe.
    fn event_tracker(&self) -> Result<EventTracker, Failure> {
        EventTracker::new(EventConfig::default().rearm(self.rearm))
            .map_err(|e| Failure::usage(format!("invalid option: {e}")))
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
enum Command {
    Help,
    Run(Box<Options>),
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

impl From<csv::Error> for Failure {
    /// An error of the events writer (the only CSV writer).
    fn from(e: csv::Error) -> Self {
        match e.into_kind() {
            csv::ErrorKind::Io(e) => Self::Output(e),
            other => Self::Output(io::Error::other(format!("{other:?}"))),
        }
    }
}

fn main() {
    let result = match parse_args(std::env::args_os().skip(1)) {
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
fn parse_args<I>(args: I) -> Result<Command, Failure>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // Asking for help is never an error, whatever else is on the line.
    if args.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Command::Help);
    }
    let mut parser = lexopt::Parser::from_args(args);
    let mut file: Option<String> = None;
    let mut o = Options::new(String::new());
    loop {
        let arg = parser.next().map_err(|e| Failure::usage(e.to_string()))?;
        let name = match arg {
            None => break,
            Some(lexopt::Arg::Value(value)) => {
                let value = utf8("FILE", value)?;
                if let Some(first) = &file {
                    return Err(Failure::usage(format!(
                        "one FILE only: got {first:?} and {value:?}"
                    )));
                }
                file = Some(value);
                continue;
            }
            Some(lexopt::Arg::Short(c)) => return Err(unknown_option(&format!("-{c}"))),
            Some(lexopt::Arg::Long(name)) => format!("--{name}"),
        };
        if name == "--no-header" || name == "--log" || name == "--predictive-tails" {
            if parser.optional_value().is_some() {
                return Err(Failure::usage(format!("{name} takes no value")));
            }
            match name.as_str() {
                "--log" => o.log = true,
                "--predictive-tails" => o.predictive_tails = true,
                _ => o.header = false,
            }
            continue;
        }
        const VALUED: [&str; 12] = [
            "--column",
            "--time-column",
            "--delimiter",
            "--risk",
            "--exclusion-risk",
            "--side",
            "--window",
            "--warmup",
            "--period",
            "--output",
            "--events",
            "--rearm",
        ];
        if !VALUED.contains(&name.as_str()) {
            return Err(unknown_option(&name));
        }
        let value = parser
            .value()
            .map_err(|_| Failure::usage(format!("{name} needs a value")))?;
        let value = utf8(&name, value)?;
        match name.as_str() {
            "--column" => o.column = Some(parse_column_spec(&name, &value)?),
            "--time-column" => o.time_column = Some(parse_column_spec(&name, &value)?),
            "--delimiter" => o.delimiter = parse_delimiter(&value)?,
            "--risk" => o.risk = parse_probability("--risk", &value)?,
            "--exclusion-risk" => {
                o.exclusion_risk = Some(parse_probability("--exclusion-risk", &value)?);
            }
            "--side" => o.side = parse_side(&value)?,
            "--window" => o.window = Some(parse_count("--window", &value, 1)?),
            "--warmup" => {
                let n = parse_count("--warmup", &value, 2)?;
                if n > MAX_WARMUP {
                    return Err(Failure::usage(format!(
                        "--warmup must be at most {MAX_WARMUP} rows, got {n}"
                    )));
                }
                o.warmup = Some(n);
            }
            "--period" => o.period = Some(parse_period(&value)?),
            "--output" => o.output = Some(value),
            "--events" => o.events = Some(value),
            "--rearm" => o.rearm = parse_count("--rearm", &value, 1)?,
            _ => return Err(unknown_option(&name)),
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
    if !o.header {
        for (option, spec) in [("--column", &o.column), ("--time-column", &o.time_column)] {
            if matches!(spec, Some(ColumnSpec::Name(_))) {
                return Err(Failure::usage(format!(
                    "{option} NAME needs a header: with --no-header give the column's \
                     position (from 1)"
                )));
            }
        }
    }
    match &o.period {
        Some(Period::Duration(_, text)) if o.time_column.is_none() => {
            return Err(Failure::usage(format!(
                "--period {text} is a duration: name the column of timestamps with \
                 --time-column, or give the period in rows"
            )));
        }
        Some(Period::Rows(n)) => check_period_rows(*n, &n.to_string())?,
        _ => {}
    }
    Ok(Command::Run(Box::new(o)))
}

fn unknown_option(name: &str) -> Failure {
    Failure::usage(format!("unknown option {name}"))
}

fn utf8(name: &str, value: OsString) -> Result<String, Failure> {
    value
        .into_string()
        .map_err(|v| Failure::usage(format!("{name} must be valid UTF-8, got {v:?}")))
}

/// A column name, or a position when it is a whole number (a header may still have a
/// column with that name: names are tried first).
fn parse_column_spec(option: &str, value: &str) -> Result<ColumnSpec, Failure> {
    if value.is_empty() {
        return Err(Failure::usage(format!(
            "{option} needs a name or a position"
        )));
    }
    Ok(match value.parse::<usize>() {
        Ok(0) => {
            return Err(Failure::usage(format!(
                "{option} positions count from 1, got 0"
            )));
        }
        Ok(n) => ColumnSpec::Index(n),
        Err(_) => ColumnSpec::Name(value.to_string()),
    })
}

fn parse_delimiter(value: &str) -> Result<u8, Failure> {
    let c = match value {
        "tab" | "\\t" => '\t',
        _ => {
            let mut chars = value.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii() => c,
                _ => {
                    return Err(Failure::usage(format!(
                        "--delimiter must be one ASCII character or \"tab\", got {value:?}"
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
    Ok(c as u8)
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

/// A period in rows (a whole number), or a duration: a positive number followed by
/// a unit, `s`, `m` (or `min`), `h`, `d` or `w`.
fn parse_period(value: &str) -> Result<Period, Failure> {
    let text = value.trim();
    if let Ok(n) = text.parse::<usize>() {
        if n < 2 {
            return Err(Failure::usage(format!(
                "--period must be at least 2 rows (>= 2), got {value:?}"
            )));
        }
        return Ok(Period::Rows(n));
    }
    let split = text
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_seconds = match unit.trim() {
        "s" | "sec" => Some(1.0),
        "m" | "min" => Some(60.0),
        "h" => Some(3600.0),
        "d" => Some(86_400.0),
        "w" => Some(604_800.0),
        _ => None,
    };
    match (number.trim().parse::<f64>(), unit_seconds) {
        (Ok(x), Some(unit)) if x > 0.0 && (x * unit).is_finite() => {
            Ok(Period::Duration(x * unit, text.to_string()))
        }
        _ => Err(Failure::usage(format!(
            "--period must be a whole number of rows (>= 2) or a duration such as 30m, \
             1h, 1d or 7d, got {value:?}"
        ))),
    }
}

/// Rejects a period whose warm-up (three periods) could never end.
fn check_period_rows(rows: usize, text: &str) -> Result<(), Failure> {
    if rows > MAX_WARMUP / 3 {
        return Err(Failure::usage(format!(
            "--period {text} is {rows} rows: the warm-up of three periods would exceed \
             {MAX_WARMUP} rows and scoring would never start"
        )));
    }
    Ok(())
}

/// A cell as written into a message: at most about 80 characters (a longer one is
/// cut, with its length), Debug-quoted.
fn shown(cell: &str) -> String {
    const KEEP: usize = 77;
    match cell.char_indices().nth(KEEP) {
        None => format!("{cell:?}"),
        Some((cut, _)) => format!(
            "{:?}... ({} characters)",
            &cell[..cut],
            cell.chars().count()
        ),
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
    // A newline inside a cell: a quoted field that runs on, often an unclosed quote.
    let hint = if cell.contains('\n') {
        " (the cell spans several lines: is a quote not closed?)"
    } else {
        ""
    };
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        Ok(_) => Err(format!(
            "{} is not a finite number (leave the cell empty for a missing value)",
            shown(cell)
        )),
        Err(_) => Err(format!("{} is not a number{hint}", shown(cell))),
    }
}

/// Seconds since 1970-01-01T00:00:00Z of a timestamp: a plain number (epoch
/// seconds), or an ISO-8601 / RFC 3339 date with an optional time of day
/// (`2014-02-14`, `2014-02-14 14:30`, `2014-02-14T14:30:00.5Z`,
/// `2014-02-14T14:30:00+01:00`; no offset means UTC).
fn parse_timestamp(text: &str) -> Option<f64> {
    let s = text.trim();
    if let Ok(x) = s.parse::<f64>() {
        return x.is_finite().then_some(x);
    }
    let b = s.as_bytes();
    // Reads `n` ASCII digits at `*at`.
    let digits = |at: &mut usize, n: usize| -> Option<i64> {
        let chunk = b.get(*at..*at + n)?;
        if !chunk.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *at += n;
        Some(chunk.iter().fold(0, |v, d| v * 10 + i64::from(d - b'0')))
    };
    let expect =
        |at: &mut usize, c: u8| -> Option<()> { (b.get(*at) == Some(&c)).then(|| *at += 1) };
    let mut at = 0;
    let year = digits(&mut at, 4)?;
    expect(&mut at, b'-')?;
    let month = digits(&mut at, 2)?;
    expect(&mut at, b'-')?;
    let day = digits(&mut at, 2)?;
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let mut seconds = (days_from_civil(year, month, day) * 86_400) as f64;
    if at < b.len() && matches!(b[at], b'T' | b't' | b' ') {
        at += 1;
        let hour = digits(&mut at, 2)?;
        expect(&mut at, b':')?;
        let minute = digits(&mut at, 2)?;
        let mut second = 0.0;
        if expect(&mut at, b':').is_some() {
            let whole = digits(&mut at, 2)?;
            let mut end = at;
            if b.get(at) == Some(&b'.') || b.get(at) == Some(&b',') {
                end += 1;
                while b.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                if end == at + 1 {
                    return None;
                }
            }
            let fraction = if end > at {
                format!("0.{}", &s[at + 1..end]).parse::<f64>().ok()?
            } else {
                0.0
            };
            at = end;
            second = whole as f64 + fraction;
        }
        if hour > 23 || minute > 59 || second >= 61.0 {
            return None;
        }
        seconds += (hour * 3600 + minute * 60) as f64 + second;
        // The offset from UTC: Z, or +HH:MM, +HHMM, +HH.
        match b.get(at) {
            Some(b'Z' | b'z') => at += 1,
            Some(&sign @ (b'+' | b'-')) => {
                at += 1;
                let h = digits(&mut at, 2)?;
                let _ = expect(&mut at, b':');
                let m = if at < b.len() { digits(&mut at, 2)? } else { 0 };
                if h > 23 || m > 59 {
                    return None;
                }
                let offset = (h * 3600 + m * 60) as f64;
                seconds -= if sign == b'+' { offset } else { -offset };
            }
            _ => {}
        }
    }
    (at == b.len()).then_some(seconds)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard
/// Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A duration for messages: in the largest unit that divides it (`1d`, `90m`, `7.5s`).
fn fmt_duration(seconds: f64) -> String {
    for (unit, size) in [
        ("w", 604_800.0),
        ("d", 86_400.0),
        ("h", 3600.0),
        ("m", 60.0),
    ] {
        let n = seconds / size;
        if n >= 1.0 && n == n.round() {
            return format!("{n}{unit}");
        }
    }
    format!("{seconds}s")
}

/// Converts a period given as a duration to rows, with the sampling interval in
/// seconds (`what` describes where the interval comes from, for messages).
fn period_rows(seconds: f64, text: &str, interval: f64, what: &str) -> Result<usize, Failure> {
    let rows = seconds / interval;
    let whole = rows.round();
    // Within 1 % of an interval, for timestamps with rounding jitter.
    if whole < 1.0 || (rows - whole).abs() > 0.01 {
        return Err(Failure::input(format!(
            "--period {text} is not a whole number of sampling intervals: the interval is \
             {} ({what}), and {text} is {rows:.3} intervals",
            fmt_duration(interval)
        )));
    }
    if whole < 2.0 {
        return Err(Failure::input(format!(
            "--period {text} is a single sampling interval ({}, {what}): a seasonal \
             period needs at least 2 rows",
            fmt_duration(interval)
        )));
    }
    let n = if whole > MAX_WARMUP as f64 {
        usize::MAX
    } else {
        whole as usize
    };
    check_period_rows(n, text)?;
    Ok(n)
}

/// The median step between consecutive timestamps, if there are at least two.
fn median_step(timestamps: &[f64]) -> Option<f64> {
    let mut steps: Vec<f64> = timestamps.windows(2).map(|w| w[1] - w[0]).collect();
    if steps.is_empty() {
        return None;
    }
    steps.sort_by(f64::total_cmp);
    let n = steps.len();
    Some(if n % 2 == 1 {
        steps[n / 2]
    } else {
        (steps[n / 2 - 1] + steps[n / 2]) / 2.0
    })
}

/// The columns chosen: the scored one and the time column, as 0-based positions,
/// with their names for messages.
#[derive(Debug, Clone, PartialEq)]
struct Columns {
    value: (usize, String),
    time: Option<(usize, String)>,
}

/// Resolves `--column` and `--time-column` against the header (or, without one, the
/// number of columns of the first data row).
fn resolve_columns(
    header: Option<&[String]>,
    columns: usize,
    options: &Options,
) -> Result<Columns, Failure> {
    let time = match &options.time_column {
        Some(spec) => Some(resolve_column(
            header,
            columns,
            Some(spec),
            "--time-column",
            None,
        )?),
        None => None,
    };
    let value = resolve_column(
        header,
        columns,
        options.column.as_ref(),
        "--column",
        time.as_ref().map(|t| t.0),
    )?;
    if let Some((t, name)) = &time
        && *t == value.0
    {
        return Err(Failure::input(format!(
            "--time-column and --column both name column {name}: choose the values \
             with --column"
        )));
    }
    Ok(Columns { value, time })
}

/// The column `spec` names, as a 0-based position, and its name for messages. `option`
/// names the option in messages; without a `spec`, the default is the only column
/// other than `other` (the time column), else the one named "value".
fn resolve_column(
    header: Option<&[String]>,
    columns: usize,
    spec: Option<&ColumnSpec>,
    option: &str,
    other: Option<usize>,
) -> Result<(usize, String), Failure> {
    let name_of = |i: usize| match header {
        Some(h) => shown(&h[i]),
        None => format!("{}", i + 1),
    };
    let list = || match header {
        Some(h) => h.iter().map(|n| shown(n)).collect::<Vec<_>>().join(", "),
        None => format!("{columns} unnamed columns"),
    };
    // The one column that matches, or an error for a name that appears twice.
    let unique = |matches: &dyn Fn(&str) -> bool| -> Result<Option<usize>, Failure> {
        let Some(h) = header else { return Ok(None) };
        let mut found = (0..h.len()).filter(|&i| matches(&h[i]));
        let first = found.next();
        if let Some(second) = found.next()
            && let Some(first) = first
        {
            return Err(Failure::input(format!(
                "the header has more than one column named {} (columns {} and {}): \
                 choose one by position with {option} N",
                shown(&h[first]),
                first + 1,
                second + 1
            )));
        }
        Ok(first)
    };
    let index = match spec {
        Some(ColumnSpec::Name(name)) => unique(&|n| n == name)?.ok_or_else(|| {
            Failure::input(format!(
                "unknown column {}; the columns are {}",
                shown(name),
                list()
            ))
        })?,
        Some(&ColumnSpec::Index(n)) => {
            // A header name that is a number wins over the position.
            match unique(&|c| c == n.to_string())? {
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
        None => {
            let candidates = columns - usize::from(other.is_some_and(|t| t < columns));
            match other {
                _ if candidates == 1 => (0..columns).find(|&i| Some(i) != other).unwrap_or(0),
                _ => unique(&|n| n.eq_ignore_ascii_case("value"))?.ok_or_else(|| {
                    Failure::input(format!(
                        "the file has {columns} columns ({}); choose one with {option}",
                        list()
                    ))
                })?,
            }
        }
    };
    Ok((index, name_of(index)))
}

/// Converts `\r\n` and lone `\r` line ends to `\n` (so that the CSV reader counts
/// lines right in files with old Mac line ends) and ends the input with a `\n` if it
/// does not (so that every record's line is known from the reader's position).
struct LineEnds<R> {
    inner: R,
    after_cr: bool,
    last: Option<u8>,
    done: bool,
}

impl<R: Read> LineEnds<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            after_cr: false,
            last: None,
            done: false,
        }
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                self.done = true;
                if self.last.is_some_and(|b| b != b'\n') {
                    buf[0] = b'\n';
                    return Ok(1);
                }
                return Ok(0);
            }
            let mut kept = 0;
            for i in 0..n {
                let b = buf[i];
                if b == b'\n' && self.after_cr {
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = b == b'\r';
                buf[kept] = if b == b'\r' { b'\n' } else { b };
                kept += 1;
            }
            if kept > 0 {
                self.last = Some(buf[kept - 1]);
                return Ok(kept);
            }
        }
    }
}

/// A data row: the line it starts on, the blank lines just before it, its fields.
#[derive(Debug)]
struct Row {
    line: u64,
    blanks: u64,
    record: csv::ByteRecord,
}

impl Row {
    /// Field `i`, trimmed (empty when the row is short).
    fn cell(&self, i: usize) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.record.get(i).map_or(&[][..], <[u8]>::trim_ascii))
    }
}

/// The records of a CSV input with the line each starts on. Blank lines (and lines
/// of spaces) are not records; [`Row::blanks`] counts those before a row.
struct Records<R: Read> {
    reader: csv::Reader<LineEnds<R>>,
    /// The last line of the previous record.
    last_line: u64,
}

impl<R: Read> Records<R> {
    fn new(input: R, delimiter: u8) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(LineEnds::new(input));
        Self {
            reader,
            last_line: 0,
        }
    }

    /// The next row, `None` at the end (blank lines at the end are dropped); an error
    /// message if the input cannot be read.
    fn next(&mut self) -> Result<Option<Row>, String> {
        let mut record = csv::ByteRecord::new();
        let mut blanks = 0;
        loop {
            if !self
                .reader
                .read_byte_record(&mut record)
                .map_err(|e| e.to_string())?
            {
                return Ok(None);
            }
            // Every record ends with a line break (LineEnds sees to it), so the
            // reader is on the line after the record's last.
            let end = self.reader.position().line().saturating_sub(1);
            let inside = record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
            let start = end.saturating_sub(inside).max(self.last_line + 1);
            blanks += start - self.last_line - 1;
            self.last_line = end;
            if record.len() == 1 && record[0].trim_ascii().is_empty() {
                blanks += end - start + 1;
                continue;
            }
            return Ok(Some(Row {
                line: start,
                blanks,
                record,
            }));
        }
    }
}

/// An event with the timestamps of its start, end and peak (when there is a time
/// column).
#[derive(Debug, Clone, PartialEq)]
struct TimedEvent {
    event: Event,
    times: Option<[String; 3]>,
}

/// Counts of what [`run`] saw.
#[derive(Debug, Default, PartialEq)]
struct Summary {
    rows: usize,
    warming_up: usize,
    missing: usize,
    anomalies: usize,
    events: usize,
    /// The largest events: most alarms first, then highest peak.
    largest: Vec<TimedEvent>,
    column: String,
    /// The detector's warm-up in rows.
    warmup: usize,
    /// The sampling interval inferred from the timestamps (seconds), the number of
    /// steps it is the median of, and the period in rows it gave.
    inferred: Option<(f64, usize, usize)>,
}

impl Summary {
    fn scored(&self) -> usize {
        self.rows - self.warming_up - self.missing
    }

    fn note_event(&mut self, e: &TimedEvent) {
        self.events += 1;
        let key = |e: &TimedEvent| (e.event.alarms, e.event.peak_score);
        let at = self
            .largest
            .iter()
            .position(|l| key(e).0 > key(l).0 || (key(e).0 == key(l).0 && key(e).1 > key(l).1))
            .unwrap_or(self.largest.len());
        if at < LARGEST_EVENTS {
            self.largest.insert(at, e.clone());
            self.largest.truncate(LARGEST_EVENTS);
        }
    }
}

/// Opens the input and output the options name and runs.
/// The data rows of a file, counted as line ends (a last line without one counts),
/// less the header; `None` if it cannot be read (the run reports that).
fn count_rows(path: &str, header: bool) -> Option<usize> {
    let mut reader = io::BufReader::new(File::open(path).ok()?);
    let (mut lines, mut last) = (0usize, b'\n');
    loop {
        let buffer = reader.fill_buf().ok()?;
        if buffer.is_empty() {
            break;
        }
        lines += buffer.iter().filter(|&&b| b == b'\n').count();
        last = buffer[buffer.len() - 1];
        let n = buffer.len();
        reader.consume(n);
    }
    lines += usize::from(last != b'\n');
    Some(lines.saturating_sub(usize::from(header)))
}

fn run_files(options: &Options) -> Result<(), Failure> {
    let input: Box<dyn Read> = if options.file == "-" {
        Box::new(io::stdin().lock())
    } else {
        let file = File::open(&options.file)
            .map_err(|e| Failure::input(format!("cannot open {}: {e}", options.file)))?;
        Box::new(file)
    };
    let mut options = options.clone();
    if options.file != "-" && options.warmup.is_none() {
        options.rows = count_rows(&options.file, options.header);
    }
    let options = &options;
    let destination = match options.output.as_deref() {
        None | Some("-") => None,
        Some(path) => Some(path),
    };
    let create = |path: &str| {
        File::create(path).map_err(|e| Failure::input(format!("cannot create {path}: {e}")))
    };
    let open = || -> Result<Sinks<Box<dyn Write>, File>, Failure> {
        let output: Box<dyn Write> = match destination {
            None => Box::new(BufWriter::new(io::stdout().lock())),
            Some(path) => Box::new(BufWriter::new(create(path)?)),
        };
        let events = options.events.as_deref().map(create).transpose()?;
        Ok(Sinks { output, events })
    };
    let (summary, _) = run(input, open, options)?;
    if let (Some((interval, steps, rows)), Some(Period::Duration(_, text))) =
        (summary.inferred, &options.period)
    {
        eprintln!(
            "detect_csv: sampling interval {} (median of the first {steps} steps): \
             --period {text} is {rows} rows",
            fmt_duration(interval)
        );
    }
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
    if summary.rows > 0 && summary.warming_up == summary.rows {
        eprintln!(
            "detect_csv: note: the warm-up is {} rows, more than the input has: \
             nothing was scored",
            summary.warmup
        );
    }
    if let Some(path) = &options.events {
        eprintln!(
            "detect_csv: {} rows, {} scored, {} alarms, {} events (an event ends after {} \
             scored rows without an alarm) -> {path}",
            summary.rows,
            summary.scored(),
            summary.anomalies,
            summary.events,
            options.rearm
        );
        if !summary.largest.is_empty() {
            eprintln!("detect_csv: largest events:");
        }
        for e in &summary.largest {
            let ev = &e.event;
            let when = e
                .times
                .as_ref()
                .map_or_else(String::new, |[start, end, _]| {
                    if start == end {
                        format!(" at {start}")
                    } else {
                        format!(" from {start} to {end}")
                    }
                });
            eprintln!(
                "  rows {}-{}{when}: {} alarm{}, {}, peak at row {} (score {}, p-value {})",
                ev.start,
                ev.end,
                ev.alarms,
                if ev.alarms == 1 { "" } else { "s" },
                side_name(ev.side),
                ev.peak,
                fmt_short(ev.peak_score),
                fmt_short(ev.peak_p_value),
            );
        }
    }
    Ok(())
}

const OUTPUT_HEADER: &str = "index,value,p_value,score,lower,upper,is_anomaly,warming_up";
const EVENTS_HEADER: [&str; 10] = [
    "start",
    "end",
    "peak",
    "peak_score",
    "peak_p_value",
    "side",
    "alarms",
    "start_time",
    "end_time",
    "peak_time",
];

/// Where the results go: the verdicts, and the events if asked for.
struct Sinks<W, E> {
    output: W,
    events: Option<E>,
}

/// Streams the chosen column of `input` through the detector and writes one CSV row
/// per data row to the output `open` returns, and the events to its events writer
/// if it has one. `open` is called once the columns are known to exist and the
/// period is resolved (so a typo in `--column` creates no output file). Returns the
/// counts and the flushed writers. After an error in the data, the rows before it
/// have been written.
fn run<W: Write, E: Write>(
    input: impl Read,
    open: impl FnOnce() -> Result<Sinks<W, E>, Failure>,
    options: &Options,
) -> Result<(Summary, Sinks<W, E>), Failure> {
    let source = options.source_name();
    let mut records = Records::new(input, options.delimiter);
    let read_error = |m: String| Failure::input(format!("cannot read {source}: {m}"));
    let header: Option<Vec<String>> = if options.header {
        let row = records
            .next()
            .map_err(read_error)?
            .ok_or_else(|| Failure::input(format!("{source} is empty")))?;
        Some(
            (0..row.record.len())
                .map(|i| row.cell(i).into_owned())
                .collect(),
        )
    } else {
        None
    };
    // With a header the columns are checked before anything is written; without one,
    // at the first data row (which tells how many columns there are).
    let mut columns = match &header {
        Some(h) => Some(resolve_columns(Some(h), h.len(), options)?),
        None => None,
    };
    // The first rows, read ahead: one without a header (to count its columns), more
    // to infer the sampling interval of a period given as a duration.
    let mut buffer = Vec::new();
    let ahead = match (&options.period, header.is_some()) {
        (Some(Period::Duration(..)), _) => INFER_ROWS,
        (_, false) => 1,
        (_, true) => 0,
    };
    let mut timestamps = Vec::new();
    while buffer.len() < ahead && timestamps.len() < INFER_TIMESTAMPS {
        let Some(row) = records.next().map_err(read_error)? else {
            break;
        };
        let c = match &columns {
            Some(c) => c,
            None => columns.insert(resolve_columns(None, row.record.len(), options)?),
        };
        if let (Some((t, name)), Some(Period::Duration(..))) = (&c.time, &options.period) {
            let cell = row.cell(*t);
            if !cell.is_empty() {
                let seconds = parse_timestamp(&cell).ok_or_else(|| {
                    Failure::input(format!(
                        "{source}, line {}: column {name}: {} is not a timestamp (seconds \
                         since 1970, or a date like 2014-02-14 14:30:00 or \
                         2014-02-14T14:30:00Z)",
                        row.line,
                        shown(&cell)
                    ))
                })?;
                timestamps.push(seconds);
            }
        }
        buffer.push(row);
    }
    let (period, inferred) = match &options.period {
        None => (None, None),
        Some(Period::Rows(n)) => (Some(*n), None),
        Some(Period::Duration(seconds, text)) => {
            let time_name = columns
                .as_ref()
                .and_then(|c| c.time.as_ref())
                .map_or_else(String::new, |t| t.1.clone());
            let interval = median_step(&timestamps).ok_or_else(|| {
                Failure::input(format!(
                    "--period {text} needs the sampling interval, but the first rows of \
                     {source} have fewer than two timestamps in column {time_name}"
                ))
            })?;
            if interval.is_nan() || interval <= 0.0 {
                return Err(Failure::input(format!(
                    "the timestamps of column {time_name} do not increase (the median \
                     step of the first {} is {interval} s), so --period {text} cannot be \
                     converted to rows",
                    timestamps.len()
                )));
            }
            let what = format!(
                "the median step of the first {} timestamps of column {time_name}",
                timestamps.len()
            );
            let rows = period_rows(*seconds, text, interval, &what)?;
            (Some(rows), Some((interval, timestamps.len() - 1, rows)))
        }
    };
    let detector = options.detector(period)?;
    let tracker = options.event_tracker()?;
    let timed = options.time_column.is_some();
    let mut pipeline = Pipeline::new(detector, tracker, options.log, timed, open()?)?;
    pipeline.summary.inferred = inferred;
    pipeline.summary.warmup = pipeline.detector.config().forecaster().warmup();
    let at =
        |line: u64, message: String| Failure::input(format!("{source}, line {line}: {message}"));
    let mut buffered = buffer.into_iter();
    loop {
        let row = match buffered.next() {
            Some(row) => row,
            None => match records.next().map_err(read_error)? {
                Some(row) => row,
                None => break,
            },
        };
        let c = match &columns {
            Some(c) => c,
            None => columns.insert(resolve_columns(None, row.record.len(), options)?),
        };
        for _ in 0..row.blanks {
            pipeline.row(None, None)?;
        }
        // A short row has its cell missing.
        let (index, name) = &c.value;
        let value = parse_cell(&row.cell(*index))
            .map_err(|m| at(row.line, format!("column {name}: {m}")))?;
        if options.log
            && let Some(v) = value
            && v <= 0.0
        {
            return Err(at(
                row.line,
                format!("column {name}: --log needs positive values, got {v}"),
            ));
        }
        let time = c.time.as_ref().map(|(t, _)| row.cell(*t));
        pipeline.row(value, time.as_deref())?;
    }
    let (mut summary, sinks) = pipeline.finish()?;
    summary.column = columns.map_or_else(String::new, |c| c.value.1);
    Ok((summary, sinks))
}

/// The side of an event as written: upper, lower or both.
fn side_name(side: Side) -> &'static str {
    match side {
        Side::Upper => "upper",
        Side::Lower => "lower",
        Side::TwoSided => "both",
    }
}

/// The detector, the event tracker and the writers: one call of [`row`](Self::row)
/// per data row.
struct Pipeline<W: Write, E: Write> {
    detector: AnomalyDetector,
    tracker: EventTracker,
    log: bool,
    output: W,
    events: Option<csv::Writer<E>>,
    /// Whether rows have timestamps (a time column).
    timed: bool,
    /// The timestamps of the open event's start, end and peak, by index.
    open_times: Option<[(u64, String); 3]>,
    summary: Summary,
}

impl<W: Write, E: Write> Pipeline<W, E> {
    /// Writes the headers.
    fn new(
        detector: AnomalyDetector,
        tracker: EventTracker,
        log: bool,
        timed: bool,
        sinks: Sinks<W, E>,
    ) -> Result<Self, Failure> {
        let mut output = sinks.output;
        writeln!(output, "{OUTPUT_HEADER}")?;
        let events = match sinks.events {
            Some(e) => {
                let mut w = csv::Writer::from_writer(e);
                w.write_record(&EVENTS_HEADER[..if timed { 10 } else { 7 }])?;
                Some(w)
            }
            None => None,
        };
        Ok(Self {
            detector,
            tracker,
            log,
            output,
            events,
            timed,
            open_times: None,
            summary: Summary::default(),
        })
    }

    /// Scores one value (`None` = missing) with its timestamp, and writes its row and
    /// the event it closes, if any.
    fn row(&mut self, value: Option<f64>, time: Option<&str>) -> Result<(), Failure> {
        let index = self.summary.rows as u64;
        let verdict = score(
            &mut self.detector,
            value,
            self.log,
            &mut self.output,
            &mut self.summary,
        )?;
        let before = if self.timed {
            self.open_times.take()
        } else {
            None
        };
        let closed = self.tracker.push(&verdict);
        // The timestamp of a row of the open event (before this row) or of this row.
        let time_of = |i: u64| -> String {
            if i == index {
                return time.unwrap_or_default().to_string();
            }
            before
                .iter()
                .flatten()
                .find(|(j, _)| *j == i)
                .map_or_else(String::new, |(_, t)| t.clone())
        };
        let times = |e: &Event| [e.start, e.end, e.peak].map(|i| (i, time_of(i)));
        if self.timed {
            self.open_times = self.tracker.open_event().map(times);
        }
        if let Some(e) = closed {
            let t = self.timed.then(|| times(&e));
            self.emit(e, t)?;
        }
        Ok(())
    }

    fn emit(&mut self, event: Event, times: Option<[(u64, String); 3]>) -> Result<(), Failure> {
        let e = TimedEvent {
            event,
            times: times.map(|t| t.map(|(_, s)| s)),
        };
        if let Some(w) = &mut self.events {
            let ev = &e.event;
            let mut record = vec![
                ev.start.to_string(),
                ev.end.to_string(),
                ev.peak.to_string(),
                fmt_short(ev.peak_score),
                fmt_short(ev.peak_p_value),
                side_name(ev.side).to_string(),
                ev.alarms.to_string(),
            ];
            if let Some(t) = &e.times {
                record.extend(t.iter().cloned());
            }
            w.write_record(&record)?;
        }
        self.summary.note_event(&e);
        Ok(())
    }

    /// Closes the last event and flushes the writers.
    fn finish(mut self) -> Result<(Summary, Sinks<W, E>), Failure> {
        if let Some(e) = self.tracker.flush() {
            let t = self.open_times.take();
            self.emit(e, t)?;
        }
        self.output.flush()?;
        let events = match self.events {
            Some(w) => Some(
                w.into_inner()
                    .map_err(|e| Failure::Output(e.into_error()))?,
            ),
            None => None,
        };
        Ok((
            self.summary,
            Sinks {
                output: self.output,
                events,
            },
        ))
    }
}

/// Scores one value (`None` = missing), writes its row and returns its verdict.
/// With `log`, the detector sees `ln(value)` (the caller has checked it is positive)
/// and the band is mapped back.
fn score(
    detector: &mut AnomalyDetector,
    value: Option<f64>,
    log: bool,
    output: &mut impl Write,
    summary: &mut Summary,
) -> Result<Verdict, Failure> {
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
    Ok(verdict)
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
        match parse_args(args(s)) {
            Ok(Command::Run(o)) => *o,
            other => panic!("{s:?} parsed as {other:?}"),
        }
    }

    fn usage_error(s: &str) -> String {
        match parse_args(args(s)) {
            Err(Failure::Usage(m)) => m,
            other => panic!("{s:?} should be a usage error, got {other:?}"),
        }
    }

    type MemSinks = Sinks<Vec<u8>, Vec<u8>>;

    /// Runs on an in-memory CSV: the summary, the output and the events (with
    /// `--events`).
    fn run_mem(csv: &str, o: &Options) -> Result<(Summary, String, Option<String>), Failure> {
        let with_events = o.events.is_some();
        let open = || -> Result<MemSinks, Failure> {
            Ok(Sinks {
                output: Vec::new(),
                events: with_events.then(Vec::new),
            })
        };
        let (summary, sinks) = run(csv.as_bytes(), open, o)?;
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        Ok((summary, text(sinks.output), sinks.events.map(text)))
    }

    fn input_error(csv: &str, o: &Options) -> String {
        match run_mem(csv, o) {
            Err(Failure::Input(m)) => m,
            Err(e) => panic!("expected an input error, got {e}"),
            Ok(_) => panic!("expected an input error, got success"),
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
             --exclusion-risk=0.01 --events=ev.csv --rearm 5 --time-column 1 \
             --predictive-tails",
        );
        assert_eq!(o.file, "x.tsv");
        assert_eq!(o.column, Some(ColumnSpec::Index(3)));
        assert_eq!(o.time_column, Some(ColumnSpec::Index(1)));
        assert!(!o.header);
        assert_eq!(o.delimiter, b'\t');
        assert_eq!(o.risk, 1e-4);
        assert_eq!(o.exclusion_risk, Some(0.01));
        let config = o.detector(Some(24)).unwrap().config().clone();
        assert_eq!(config.exclusion_risk(), 0.01);
        assert!(config.predictive_tails());
        let plain = options("f").detector(None).unwrap().config().clone();
        assert!(!plain.predictive_tails());
        assert_eq!(o.side, Side::Upper);
        assert_eq!(
            (o.window, o.warmup, o.period.clone()),
            (Some(500), Some(100), Some(Period::Rows(24)))
        );
        assert_eq!(o.output.as_deref(), Some("out.csv"));
        assert_eq!(o.events.as_deref(), Some("ev.csv"));
        assert_eq!(o.rearm, 5);
        assert!(o.log);
        assert_eq!(
            options("f --column=value").column,
            Some(ColumnSpec::Name("value".into()))
        );
        assert_eq!(options("f --delimiter ;").delimiter, b';');
        assert_eq!(options("f --side both").side, Side::TwoSided);
        assert_eq!(options("f --side lower").side, Side::Lower);
        assert_eq!(
            options("f --time-column ts --period 7d").period,
            Some(Period::Duration(7.0 * 86_400.0, "7d".into()))
        );
    }

    #[test]
    fn help_wins() {
        assert_eq!(
            parse_args(args("f --risk 7 --help")).unwrap(),
            Command::Help
        );
        assert_eq!(parse_args(args("-h")).unwrap(), Command::Help);
        assert!(USAGE.contains("--exclusion-risk P"));
        assert!(USAGE.contains("--events EVENTS.csv") && USAGE.contains("--time-column"));
    }

    #[test]
    fn bad_arguments_name_the_option_and_value() {
        assert!(usage_error("").contains("no FILE"));
        assert!(usage_error("a.csv b.csv").contains("one FILE only"));
        assert!(usage_error("f --bogus 1").contains("unknown option --bogus"));
        assert_eq!(usage_error("f --frobnicate"), "unknown option --frobnicate");
        assert_eq!(
            usage_error("f --frobnicate=2"),
            "unknown option --frobnicate"
        );
        assert_eq!(usage_error("f -x"), "unknown option -x");
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
        assert!(usage_error("f --delimiter ab").contains("one ASCII character"));
        assert!(usage_error("f --delimiter é").contains("one ASCII character"));
        assert!(usage_error("f --delimiter \"").contains("cannot be"));
        assert!(usage_error("f --column 0").contains("count from 1"));
        assert!(usage_error("f --time-column 0").contains("--time-column positions count"));
        assert!(usage_error("f --no-header --column value").contains("needs a header"));
        assert!(usage_error("f --no-header --time-column ts").contains("--time-column NAME needs"));
        assert!(usage_error("f --no-header=yes").contains("takes no value"));
        assert!(usage_error("f --log=1").contains("--log takes no value"));
        assert!(usage_error("f --rearm 0").contains("--rearm must be a whole number >= 1"));
    }

    #[test]
    fn periods_in_rows_or_time_units() {
        let p = |s: &str| parse_period(s).unwrap();
        assert_eq!(p("24"), Period::Rows(24));
        assert_eq!(p("1d"), Period::Duration(86_400.0, "1d".into()));
        assert_eq!(p("7d"), Period::Duration(604_800.0, "7d".into()));
        assert_eq!(p("1h"), Period::Duration(3600.0, "1h".into()));
        assert_eq!(p("30m"), Period::Duration(1800.0, "30m".into()));
        assert_eq!(p("30min"), Period::Duration(1800.0, "30min".into()));
        assert_eq!(p("1.5h"), Period::Duration(5400.0, "1.5h".into()));
        assert_eq!(p("1w"), Period::Duration(604_800.0, "1w".into()));
        assert_eq!(p("1e3s"), Period::Duration(1000.0, "1e3s".into()));
        for bad in ["0h", "-1h", "h", "1x", "1e400d", "nan h", "1.5", "0", ""] {
            assert!(parse_period(bad).is_err(), "{bad:?}");
        }
        let m = usage_error("f --period 1d");
        assert!(
            m.contains("--period 1d is a duration") && m.contains("--time-column"),
            "{m}"
        );
        // A warm-up that could never end.
        let m = usage_error("f --period 4000000");
        assert!(m.contains("would exceed 10000000 rows"), "{m}");
        assert!(usage_error("f --warmup 10000001").contains("at most 10000000"));
        assert_eq!(options("f --warmup 10000000").warmup, Some(10_000_000));
        assert_eq!(
            options("f --period 3333333").period,
            Some(Period::Rows(3_333_333))
        );
        // With a window longer than the limit the warm-up stays at 1000 by default.
        let mut o = options("f --window 20000000");
        assert!(o.detector(None).is_ok());
        o.warmup = Some(10_000_000);
        assert!(o.detector(Some(3_333_334)).is_err());
        // A short file is mostly scored: 15 % of its rows, at least 100; a given
        // --warmup and three periods of a given season win.
        let warmup =
            |o: &Options, period| o.detector(period).unwrap().config().forecaster().warmup();
        let mut o = options("f");
        assert_eq!(warmup(&o, None), 1000);
        for (rows, expected) in [(1_600, 240), (300, 100), (100_000, 1000)] {
            o.rows = Some(rows);
            assert_eq!(warmup(&o, None), expected, "{rows} rows");
        }
        o.rows = Some(1_600);
        assert_eq!(warmup(&o, Some(288)), 864);
        o.warmup = Some(500);
        assert_eq!(warmup(&o, None), 500);
        let dir = std::env::temp_dir().join(format!("detect_csv_rows_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("rows.csv");
        std::fs::write(&file, "value\n1\n2\n3").unwrap();
        assert_eq!(count_rows(file.to_str().unwrap(), true), Some(3));
        assert_eq!(count_rows(file.to_str().unwrap(), false), Some(4));
        std::fs::write(&file, "1\r\n2\r\n").unwrap();
        assert_eq!(count_rows(file.to_str().unwrap(), false), Some(2));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(count_rows("/no/such/file.csv", true), None);
        // Conversion with a sampling interval.
        assert_eq!(period_rows(86_400.0, "1d", 3600.0, "x").unwrap(), 24);
        assert_eq!(
            period_rows(86_400.0, "1d", 3600.0 * 1.0004, "x").unwrap(),
            24
        );
        assert!(period_rows(86_400.0, "1d", 3600.0 * 1.0005, "x").is_err());
        let Err(Failure::Input(m)) = period_rows(86_400.0, "1d", 7.0 * 60.0, "the steps") else {
            panic!()
        };
        assert!(
            m.contains("not a whole number of sampling intervals")
                && m.contains("7m (the steps)")
                && m.contains("205.714"),
            "{m}"
        );
        let Err(Failure::Input(m)) = period_rows(3600.0, "1h", 3600.0, "x") else {
            panic!()
        };
        assert!(m.contains("at least 2 rows"), "{m}");
        let Err(Failure::Usage(m)) = period_rows(1e9, "1e9s", 1.0, "x") else {
            panic!()
        };
        assert!(m.contains("never start"), "{m}");
        assert_eq!(fmt_duration(86_400.0), "1d");
        assert_eq!(fmt_duration(1800.0), "30m");
        assert_eq!(fmt_duration(90.0), "90s");
        assert_eq!(fmt_duration(0.5), "0.5s");
        assert_eq!(median_step(&[0.0, 1.0, 2.0, 10.0]), Some(1.0));
        assert_eq!(median_step(&[0.0, 1.0, 3.0]), Some(1.5));
        assert_eq!(median_step(&[5.0]), None);
    }

    #[test]
    fn timestamps() {
        let t = parse_timestamp;
        let day = 1_392_336_000.0; // 2014-02-14T00:00:00Z
        assert_eq!(t("1970-01-01"), Some(0.0));
        assert_eq!(t("2014-02-14"), Some(day));
        assert_eq!(t("2014-02-14T14:30:00Z"), Some(1_392_388_200.0));
        assert_eq!(t("2014-02-14 14:30:00"), Some(1_392_388_200.0));
        assert_eq!(t(" 2014-02-14t14:30z "), Some(1_392_388_200.0));
        assert_eq!(t("2014-02-14T14:30:00.25Z"), Some(1_392_388_200.25));
        assert_eq!(
            t("2014-02-14T14:30:00+01:00"),
            Some(1_392_388_200.0 - 3600.0)
        );
        assert_eq!(
            t("2014-02-14T14:30:00-0530"),
            Some(1_392_388_200.0 + 19_800.0)
        );
        assert_eq!(t("2014-02-14T14:30:00+01"), Some(1_392_388_200.0 - 3600.0));
        assert_eq!(t("1392388200"), Some(1_392_388_200.0));
        assert_eq!(t("1392388200.5"), Some(1_392_388_200.5));
        assert_eq!(t("2000-02-29"), Some(951_782_400.0));
        assert_eq!(t("1969-12-31T23:59:59Z"), Some(-1.0));
        for bad in [
            "",
            "garbage",
            "2001-02-29",
            "2014-13-01",
            "2014-02-14T25:00",
            "2014-02-14T14",
            "2014-02-14T14:30:00.",
            "2014-02-14 14:30:00 extra",
            "14/02/2014",
            "inf",
        ] {
            assert_eq!(t(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn invalid_configuration_is_a_usage_error() {
        // Accepted by the parser, rejected by the library's validation.
        let o = options("f --window 50 --warmup 10 --period 24");
        assert!(
            o.detector(Some(24)).is_ok(),
            "the warm-up is raised to three periods"
        );
        let mut o = options("f");
        o.window = Some(usize::MAX);
        assert!(matches!(o.detector(None), Err(Failure::Usage(m)) if m.contains("window")));
    }

    /// The rows of an in-memory CSV: (line, blank lines before, fields).
    fn rows(csv: &[u8], delimiter: u8) -> Vec<(u64, u64, Vec<String>)> {
        let mut records = Records::new(csv, delimiter);
        let mut out = Vec::new();
        while let Some(row) = records.next().unwrap() {
            let fields = (0..row.record.len())
                .map(|i| row.cell(i).into_owned())
                .collect();
            out.push((row.line, row.blanks, fields));
        }
        out
    }

    #[test]
    fn records_lines_quotes_and_line_ends() {
        let v = |fields: &[&str]| fields.iter().map(|f| f.to_string()).collect::<Vec<_>>();
        assert_eq!(
            rows(b" a , b ,\n\"x, y\",2\n\"say \"\"hi\"\"\",3", b','),
            [
                (1, 0, v(&["a", "b", ""])),
                (2, 0, v(&["x, y", "2"])),
                (3, 0, v(&["say \"hi\"", "3"])),
            ]
        );
        assert_eq!(rows(b"1;2,5\n", b';'), [(1, 0, v(&["1", "2,5"]))]);
        assert_eq!(rows(b"1 2  3\n", b' '), [(1, 0, v(&["1", "2", "", "3"]))]);
        // Blank lines (and lines of spaces) are counted before the next row; at the
        // end they are dropped.
        let expected = [
            (1, 0, v(&["h"])),
            (4, 2, v(&["1"])),
            (5, 0, v(&["2"])),
            (8, 2, v(&["3"])),
        ];
        assert_eq!(rows(b"h\n\n\n1\n2\n  \n\n3\n\n \n", b','), expected);
        // The same with CRLF and with CR-only line ends, and with a byte-order mark.
        assert_eq!(
            rows(b"h\r\n\r\n\r\n1\r\n2\r\n  \r\n\r\n3\r\n\r\n", b','),
            expected
        );
        assert_eq!(rows(b"h\r\r\r1\r2\r  \r\r3\r\r", b','), expected);
        assert_eq!(rows(b"\xef\xbb\xbfh\n\n\n1\n2\n\n\n3", b','), expected);
        // A quoted field may span lines; the next row's line is right.
        assert_eq!(
            rows(b"\"a\nb\",1\n2,3\n", b','),
            [(1, 0, v(&["a\nb", "1"])), (3, 0, v(&["2", "3"]))]
        );
        assert!(rows(b"", b',').is_empty());
        assert!(rows(b"\n\n", b',').is_empty());
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
        // A huge cell is cut in the message.
        let huge = "x".repeat(100_000);
        let m = parse_cell(&huge).unwrap_err();
        assert!(m.len() < 150 && m.contains("(100000 characters)"), "{m}");
        let m = parse_cell("é".repeat(90).as_str()).unwrap_err();
        assert!(m.contains("(90 characters)"), "{m}");
        assert!(
            parse_cell("1\n2")
                .unwrap_err()
                .contains("is a quote not closed?")
        );
    }

    #[test]
    fn columns_by_name_position_and_default() {
        let h: Vec<String> = ["t", "value", "2"].map(String::from).to_vec();
        let r =
            |spec: Option<ColumnSpec>| resolve_column(Some(&h), 3, spec.as_ref(), "--column", None);
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
        let bare = |columns, spec: Option<&ColumnSpec>| {
            resolve_column(None, columns, spec, "--column", None)
        };
        assert_eq!(bare(1, None).unwrap(), (0, "1".to_string()));
        assert!(bare(2, None).is_err());
        assert_eq!(bare(2, Some(&ColumnSpec::Index(2))).unwrap().0, 1);
        // With a time column, the one other column is the default.
        let h2: Vec<String> = ["ts", "count"].map(String::from).to_vec();
        let mut o = options("f --time-column ts");
        let c = resolve_columns(Some(&h2), 2, &o).unwrap();
        assert_eq!((c.value.0, c.time.map(|t| t.0)), (1, Some(0)));
        o.column = Some(ColumnSpec::Name("ts".into()));
        let Err(Failure::Input(m)) = resolve_columns(Some(&h2), 2, &o) else {
            panic!()
        };
        assert!(m.contains("both name column \"ts\""), "{m}");
        // A duplicated name cannot be chosen by name, only by position.
        let h3: Vec<String> = ["t", "value", "value"].map(String::from).to_vec();
        for spec in [Some(ColumnSpec::Name("value".into())), None] {
            let Err(Failure::Input(m)) =
                resolve_column(Some(&h3), 3, spec.as_ref(), "--column", None)
            else {
                panic!()
            };
            assert!(
                m.contains("more than one column named \"value\" (columns 2 and 3)")
                    && m.contains("--column N"),
                "{m}"
            );
        }
        let third = resolve_column(Some(&h3), 3, Some(&ColumnSpec::Index(3)), "--column", None);
        assert_eq!(third.unwrap().0, 2);
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

    /// A series with spikes, a missing cell and a short row, through the whole
    /// pipeline; timestamps hourly from 2014-02-14 00:00.
    fn sample_csv() -> String {
        let mut csv = String::from("t,\"value\",note,time\n");
        for t in 0..300 {
            let y = 10.0 + ((t * 7919) % 101) as f64 / 100.0;
            let cell = match t {
                250 | 252 | 280 => "60".to_string(),
                260 => String::new(),
                _ => y.to_string(),
            };
            let time = format!("2014-02-{:02} {:02}:00:00", 14 + t / 24, t % 24);
            if t == 270 {
                csv.push_str("270\n");
            } else {
                csv.push_str(&format!("{t},{cell},x,{time}\n"));
            }
        }
        csv.push_str("\n\n"); // trailing blank lines are not rows
        csv
    }

    #[test]
    fn end_to_end() {
        let mut o = options("mem.csv --window 100");
        o.column = Some(ColumnSpec::Name("value".into()));
        let (summary, text, events) = run_mem(&sample_csv(), &o).unwrap();
        assert_eq!(events, None);
        let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
        assert_eq!(rows[0].join(","), OUTPUT_HEADER);
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
        // Events: 250 and 252 together, 280 alone.
        assert_eq!(summary.events, 2);
        assert_eq!(summary.scored(), 198);
        let largest: Vec<_> = summary
            .largest
            .iter()
            .map(|e| (e.event.start, e.event.end))
            .collect();
        assert_eq!(largest, [(250, 252), (280, 280)]);
        assert_eq!(summary.largest[0].times, None);
    }

    #[test]
    fn events_with_timestamps_and_a_period_in_days() {
        let mut o = options(
            "mem.csv --window 100 --time-column time --period 1d --events ev.csv --rearm 5",
        );
        o.column = Some(ColumnSpec::Name("value".into()));
        let (summary, text, events) = run_mem(&sample_csv(), &o).unwrap();
        assert_eq!(summary.inferred, Some((3600.0, 100, 24)));
        assert_eq!(summary.rows, 300);
        assert!(text.lines().nth(251).unwrap().starts_with("250,60,"));
        let events = events.unwrap();
        let lines: Vec<&str> = events.lines().collect();
        assert_eq!(
            lines[0],
            "start,end,peak,peak_score,peak_p_value,side,alarms,start_time,end_time,peak_time"
        );
        assert_eq!(lines.len(), 3, "{events}");
        let f: Vec<&str> = lines[1].split(',').collect();
        assert_eq!((f[0], f[1], f[5], f[6]), ("250", "252", "upper", "2"));
        assert!(f[2] == "250" || f[2] == "252");
        assert!(f[3].parse::<f64>().unwrap() > 3.0 && f[4].parse::<f64>().unwrap() < 1e-3);
        let peak_time = if f[2] == "250" {
            "2014-02-24 10:00:00"
        } else {
            "2014-02-24 12:00:00"
        };
        assert_eq!(
            &f[7..],
            ["2014-02-24 10:00:00", "2014-02-24 12:00:00", peak_time]
        );
        assert!(lines[2].starts_with("280,280,280,"));
        assert!(
            lines[2]
                .ends_with(",upper,1,2014-02-25 16:00:00,2014-02-25 16:00:00,2014-02-25 16:00:00")
        );
        assert_eq!(
            summary.largest[0].times.as_ref().unwrap()[0],
            "2014-02-24 10:00:00"
        );
        // Without a time column: the first seven columns only.
        let mut o = options("mem.csv --window 100 --period 24 --events ev.csv");
        o.column = Some(ColumnSpec::Name("value".into()));
        let (_, _, events) = run_mem(&sample_csv(), &o).unwrap();
        let events = events.unwrap();
        assert!(events.starts_with("start,end,peak,peak_score,peak_p_value,side,alarms\n250,252,"));
    }

    #[test]
    fn interval_inference_errors() {
        // Epoch seconds every 7 minutes: a day is not a whole number of steps.
        let csv: String = std::iter::once("ts,value\n".to_string())
            .chain((0..200).map(|t| format!("{},{}\n", 1_000_000 + 420 * t, t % 5)))
            .collect();
        let o = options("mem.csv --time-column ts --period 1d");
        let m = input_error(&csv, &o);
        assert!(
            m.contains("--period 1d is not a whole number of sampling intervals")
                && m.contains("the interval is 7m")
                && m.contains("first 101 timestamps of column \"ts\""),
            "{m}"
        );
        // 7 hours of 7-minute steps is 60 rows.
        let o = options("mem.csv --time-column ts --period 7h --window 50");
        assert_eq!(
            run_mem(&csv, &o).unwrap().0.inferred,
            Some((420.0, 100, 60))
        );
        // A bad timestamp says where.
        let o = options("mem.csv --time-column ts --period 1h");
        let m = input_error("ts,value\n2014-02-14,1\nyesterday,2\n", &o);
        assert!(
            m.starts_with("mem.csv, line 3: column \"ts\": \"yesterday\" is not a timestamp"),
            "{m}"
        );
        let m = input_error("ts,value\n2014-02-14,1\n", &o);
        assert!(m.contains("fewer than two timestamps"), "{m}");
        let m = input_error("ts,value\n5,1\n5,2\n5,3\n", &o);
        assert!(m.contains("do not increase"), "{m}");
        // Without a header, by position.
        let csv: String = (0..100)
            .map(|t| format!("{},{}\n", 60 * t, t % 3))
            .collect();
        let o = options("mem.csv --no-header --time-column 1 --column 2 --period 1h --window 30");
        let (summary, _, _) = run_mem(&csv, &o).unwrap();
        assert_eq!(
            (summary.rows, summary.inferred),
            (100, Some((60.0, 99, 60)))
        );
    }

    #[test]
    fn bad_cells_and_columns_say_where() {
        let o = options("mem.csv --column value");
        let m = input_error("t,value\n0,1.5\n1,abc\n", &o);
        assert_eq!(
            m,
            "mem.csv, line 3: column \"value\": \"abc\" is not a number"
        );
        // Lines are counted across blank lines, CR line ends and multi-line cells.
        let m = input_error("t,value\n0,1.5\n\n\n1,abc\n", &o);
        assert!(m.starts_with("mem.csv, line 5:"), "{m}");
        let m = input_error("t,value\r0,1.5\r1,abc\r", &o);
        assert!(m.starts_with("mem.csv, line 3:"), "{m}");
        let m = input_error("t,value\n\"0\n\",1.5\n1,abc\n", &o);
        assert!(m.starts_with("mem.csv, line 4:"), "{m}");
        // A huge cell is cut.
        let m = input_error(&format!("t,value\n0,{}\n", "9x".repeat(50_000)), &o);
        assert!(m.len() < 200 && m.contains("(100000 characters)"), "{m}");
        // An unclosed quote swallows the rest of the file.
        let m = input_error("t,value\n0,\"1.5\n1,2\n", &o);
        assert!(m.contains("is a quote not closed?"), "{m}");
        // A bad column is found before the output is opened.
        let refuse = || -> Result<MemSinks, Failure> { panic!("output opened") };
        for (o, csv) in [
            (options("mem.csv --column price"), "t,value\n0,1\n"),
            (options("mem.csv --column value"), "t,value,value\n0,1,2\n"),
            (
                options("mem.csv --time-column ts --period 1d"),
                "ts,value\n0,1\n",
            ),
        ] {
            let Err(Failure::Input(m)) = run(csv.as_bytes(), refuse, &o) else {
                panic!()
            };
            assert!(
                m.starts_with("unknown column \"price\"")
                    || m.contains("more than one column named \"value\"")
                    || m.contains("fewer than two timestamps"),
                "{m}"
            );
        }
        let o = options("mem.csv --column price");
        let Err(Failure::Input(m)) = run("".as_bytes(), refuse, &o) else {
            panic!()
        };
        assert_eq!(m, "mem.csv is empty");
        let o = options("mem.csv --log");
        assert_eq!(
            input_error("v\n1\n0\n", &o),
            "mem.csv, line 3: column \"v\": --log needs positive values, got 0"
        );
        // No data rows: just the header.
        let o = options("mem.csv");
        let (summary, out, _) = run_mem("t,value\n", &o).unwrap();
        assert_eq!((summary.rows, out), (0, format!("{OUTPUT_HEADER}\n")));
    }

    #[test]
    fn bom_and_line_ends() {
        let o = options("mem.csv --column t --window 20");
        let body: String = (0..50).map(|t| format!("{}\n", t % 7)).collect();
        let expected = run_mem(&format!("t\n{body}"), &o).unwrap();
        assert_eq!(expected.0.rows, 50);
        for csv in [
            format!("\u{feff}t\n{body}"),
            format!("t\r\n{}", body.replace('\n', "\r\n")),
            format!("t\r{}", body.replace('\n', "\r")),
            format!("t\n{}", body.trim_end()),
        ] {
            assert_eq!(run_mem(&csv, &o).unwrap(), expected, "{csv:?}");
        }
    }

    #[test]
    fn log_scale_band_is_mapped_back() {
        let o = options("mem.csv --log --window 50");
        let csv: String = std::iter::once("v\n".to_string())
            .chain((0..120).map(|t| format!("{}\n", 100.0 + ((t * 37) % 17) as f64)))
            .collect();
        let (summary, text, _) = run_mem(&csv, &o).unwrap();
        assert_eq!(summary.rows, 120);
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
        let (summary, text, _) = run_mem(&csv, &o).unwrap();
        assert_eq!(summary.rows, 50);
        assert_eq!(summary.column, "2");
        assert_eq!(text.lines().nth(4).unwrap().split(',').nth(1), Some("3"));
        // Blank lines between rows are missing values.
        let o = options("mem.csv --no-header --window 20");
        let (summary, text, _) = run_mem("\n\n1\n\n2\n3\n\n", &o).unwrap();
        assert_eq!((summary.rows, summary.missing), (6, 3));
        assert_eq!(text.lines().nth(1).unwrap(), "0,,,,-inf,inf,0,1");
    }
}
