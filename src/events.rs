//! Anomaly events: runs of nearby alarms grouped into one record.
//!
//! An [`AnomalyDetector`](crate::AnomalyDetector) gives one [`Verdict`] per
//! observation; an incident (a burst of spikes, a dip lasting a few hours) raises
//! several alarms, often with a few unflagged observations between them. An
//! [`EventTracker`] groups the verdicts of a stream into [`Event`]s, one per
//! incident, without allocating: it holds the open event and two counters.
//!
//! # The grouping rule
//!
//! Every pushed verdict gets the next *index*: 0 for the first verdict pushed, then
//! 1, 2, … — every verdict counts, warm-up and missing ones included, so an index is
//! the observation's position in the stream. Each verdict is one of
//!
//! * an **alarm**: `is_anomaly` is set (and neither `warming_up` nor `missing`);
//! * **quiet**: scored and not flagged (neither `warming_up` nor `missing`, and not
//!   `is_anomaly`);
//! * **unscored**: `warming_up` or `missing` is set.
//!
//! Then, with `rearm` = [`EventConfig::rearm`] (default [`DEFAULT_REARM`]):
//!
//! 1. An alarm when no event is open opens an event at its index.
//! 2. An alarm while an event is open joins it: the event's `end` becomes the
//!    alarm's index, `alarms` grows by one, the peak moves to it if its score is
//!    higher, and the count of quiet verdicts since the event's last alarm resets
//!    to 0.
//! 3. A quiet verdict while an event is open adds 1 to that count; when the count
//!    reaches `rearm`, the event closes and [`push`](EventTracker::push) returns it.
//!    So an event ends after `rearm` consecutive quiet verdicts, and two alarms
//!    belong to the same event exactly when fewer than `rearm` quiet verdicts lie
//!    between them.
//! 4. An unscored verdict changes nothing but the index: it does not close an event,
//!    does not count toward the re-arm gap and does not reset it. An event open when
//!    the input has a gap (missing values) stays open across the gap, and its indices
//!    still count the gap.
//!
//! With a maximum length `max_len` ([`EventConfig::max_len`], default none), an
//! event's span `end - start + 1` never exceeds `max_len`: the alarm that brings the
//! span to `max_len` closes the event at once (`push` returns it), and an alarm that
//! would take the span beyond `max_len` (after a gap) closes the open event and opens
//! the next one. `max_len(1)` makes every alarm an event of its own.
//!
//! At the end of a stream, [`flush`](EventTracker::flush) closes the event still
//! open, if any. [`group_events`] does all of this for a slice of verdicts.
//!
//! The tracker's state serialises with serde (an invalid saved state fails to load
//! with [`Error::InvalidState`]), and a tracker restored mid-stream closes exactly
//! the events the original would have.
//!
//! # Examples
//!
//! ```
//! # fn main() -> Result<(), tailcast::Error> {
//! use tailcast::events::{EventConfig, EventTracker};
//! use tailcast::{AnomalyDetector, DetectorConfig, ForecasterConfig, Side};
//!
//! let config = DetectorConfig::default().forecaster(ForecasterConfig::default().window(200));
//! let mut detector = AnomalyDetector::new(config)?;
//! let mut tracker = EventTracker::new(EventConfig::default().rearm(5))?;
//! let mut events = Vec::new();
//! for t in 0..600 {
//!     let noise = ((t * 7919) % 1009) as f64 / 1009.0; // uniform-looking on [0, 1)
//!     let y = match t {
//!         // Spikes at 400, 401 and 404, with a missing value (402) and one quiet
//!         // verdict (403) between them: fewer than 5, one event. Then a lone dip.
//!         400 | 401 | 404 => 25.0,
//!         402 => f64::NAN,
//!         450 => -20.0,
//!         _ => noise,
//!     };
//!     let verdict = detector.update(y)?;
//!     events.extend(tracker.push(&verdict));
//! }
//! events.extend(tracker.flush());
//! assert_eq!(events.len(), 2);
//! let (burst, dip) = (events[0], events[1]);
//! assert_eq!((burst.start, burst.end, burst.alarms, burst.side), (400, 404, 3, Side::Upper));
//! assert!(burst.peak_p_value < 1e-3 && burst.peak_score > 3.0);
//! assert_eq!((dip.start, dip.end, dip.alarms, dip.side), (450, 450, 1, Side::Lower));
//! # Ok(())
//! # }
//! ```

use serde::{Deserialize, Serialize};

use crate::anomaly::{Side, Verdict};
use crate::checked::{Check, Checked, IntoChecked};
use crate::error::{Error, Result};

/// The default re-arm gap of [`EventConfig`]: an event ends after this many
/// consecutive quiet (scored, unflagged) verdicts.
pub const DEFAULT_REARM: usize = 10;

/// How an [`EventTracker`] groups alarms into events (see the
/// [module notes](self) for the exact rule).
///
/// | setter | default | meaning |
/// |---|---|---|
/// | [`rearm`](Self::rearm) | 10 ([`DEFAULT_REARM`]) | an event ends after this many consecutive quiet verdicts |
/// | [`max_len`](Self::max_len) | none | an event spans at most this many indices |
///
/// [`check`](Check::check) gives the [`Checked`] configuration, which reads each
/// setting back: [`rearm`](Checked::<EventConfig>::rearm) and
/// [`max_len`](Checked::<EventConfig>::max_len).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::{Check, events::EventConfig};
/// let config = EventConfig::default().rearm(24).max_len(168).check()?;
/// assert_eq!((config.rearm(), config.max_len()), (24, Some(168)));
/// let err = EventConfig::default().rearm(0).check().unwrap_err();
/// assert_eq!(err.to_string(), "rearm must be >= 1, got 0");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventConfig {
    rearm: usize,
    #[serde(default)]
    max_len: Option<usize>,
}

impl Default for EventConfig {
    fn default() -> Self {
        Self {
            rearm: DEFAULT_REARM,
            max_len: None,
        }
    }
}

impl EventConfig {
    /// The re-arm gap, at least 1: an open event closes after this many consecutive
    /// quiet (scored, unflagged) verdicts. Missing and warm-up verdicts do not count.
    pub fn rearm(mut self, n: usize) -> Self {
        self.rearm = n;
        self
    }

    /// The longest span `end - start + 1` of an event, at least 1: a longer incident
    /// is cut into events of at most this span (see the [module notes](self)).
    pub fn max_len(mut self, n: usize) -> Self {
        self.max_len = Some(n);
        self
    }
}

impl Check for EventConfig {
    /// # Errors
    ///
    /// [`Error::InvalidCount`] for a re-arm gap or a maximum length of 0.
    fn check(&self) -> Result<Checked<Self>> {
        if self.rearm == 0 {
            return Err(Error::InvalidCount {
                name: "rearm",
                value: self.rearm,
                expected: ">= 1",
            });
        }
        if self.max_len == Some(0) {
            return Err(Error::InvalidCount {
                name: "max_len",
                value: 0,
                expected: ">= 1",
            });
        }
        Ok(Checked::after_check(*self))
    }
}

impl Checked<EventConfig> {
    /// The re-arm gap.
    pub fn rearm(&self) -> usize {
        self.config().rearm
    }

    /// The longest span of an event, `None` when unbounded.
    pub fn max_len(&self) -> Option<usize> {
        self.config().max_len
    }

    fn rearm_u64(&self) -> u64 {
        u64::try_from(self.rearm()).unwrap_or(u64::MAX)
    }

    /// The maximum span, `u64::MAX` when unbounded.
    fn max_span(&self) -> u64 {
        self.max_len()
            .map_or(u64::MAX, |n| u64::try_from(n).unwrap_or(u64::MAX))
    }
}

/// A group of nearby alarms (see the [module notes](self) for how they are grouped).
///
/// Indices are positions in the stream of pushed verdicts, from 0, counting every
/// verdict (warm-up and missing ones included).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// Index of the first alarm.
    pub start: u64,
    /// Index of the last alarm.
    pub end: u64,
    /// Index of the alarm with the highest score (the first one on a tie).
    pub peak: u64,
    /// The peak's score `-log10 p` (`+∞` for a p-value of 0).
    #[serde(with = "crate::nonfinite")]
    pub peak_score: f64,
    /// The peak's p-value.
    #[serde(with = "crate::nonfinite")]
    pub peak_p_value: f64,
    /// The side of the alarms ([`Side::Upper`]: too high, [`Side::Lower`]: too low)
    /// when they all agree, which is then the peak's; [`Side::TwoSided`] when the
    /// event has alarms on both sides.
    pub side: Side,
    /// The number of alarms in the event (between 1 and its span).
    pub alarms: u64,
}

impl Event {
    /// An event of one alarm.
    fn opened(index: u64, v: &Verdict) -> Self {
        Self {
            start: index,
            end: index,
            peak: index,
            peak_score: v.score,
            peak_p_value: v.p_value,
            side: v.side,
            alarms: 1,
        }
    }

    /// Adds the alarm `v` at `index` (after the event's end).
    fn join(&mut self, index: u64, v: &Verdict) {
        self.end = index;
        self.alarms = self.alarms.saturating_add(1);
        // A NaN score (which a detector never gives an alarm) never wins, and is
        // replaced by any other.
        if v.score > self.peak_score || (self.peak_score.is_nan() && !v.score.is_nan()) {
            self.peak = index;
            self.peak_score = v.score;
            self.peak_p_value = v.p_value;
        }
        if v.side != self.side {
            self.side = Side::TwoSided;
        }
    }

    /// The number of indices from the first alarm to the last, both included:
    /// `end - start + 1`.
    pub fn span(&self) -> u64 {
        self.end.saturating_sub(self.start).saturating_add(1)
    }
}

/// Groups a stream of [`Verdict`]s into [`Event`]s, one verdict at a time, without
/// allocating (see the [module notes](self) for the rule and an example).
///
/// The state serialises with serde and is checked when it is read back: a tracker
/// restored mid-stream continues exactly as the original.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TrackerRepr")]
pub struct EventTracker {
    config: Checked<EventConfig>,
    /// Verdicts pushed so far: the index of the next one.
    seen: u64,
    /// Quiet verdicts since the open event's last alarm (0 when none is open).
    quiet: u64,
    /// The open event.
    open: Option<Event>,
}

/// The deserialised form of [`EventTracker`], checked before it is used.
#[derive(Debug, Deserialize)]
struct TrackerRepr {
    /// Checked as it is read.
    config: Checked<EventConfig>,
    seen: u64,
    quiet: u64,
    open: Option<Event>,
}

impl TryFrom<TrackerRepr> for EventTracker {
    type Error = Error;
    fn try_from(r: TrackerRepr) -> Result<Self> {
        let invalid = |reason| Err(Error::InvalidState { reason });
        match &r.open {
            None if r.quiet != 0 => {
                return invalid("quiet verdicts are counted but no event is open");
            }
            None => {}
            Some(e) => {
                if !(e.start <= e.peak && e.peak <= e.end && e.end < r.seen) {
                    return invalid("the open event's indices are out of order or not yet seen");
                }
                if !(e.alarms >= 1 && e.alarms <= e.span()) {
                    return invalid("the open event's alarm count does not fit its span");
                }
                if e.span() >= r.config.max_span() {
                    return invalid("the open event has reached the maximum length");
                }
                if r.quiet >= r.config.rearm_u64() || r.quiet > r.seen - 1 - e.end {
                    return invalid("the quiet count does not fit the re-arm gap or the stream");
                }
            }
        }
        Ok(Self {
            config: r.config,
            seen: r.seen,
            quiet: r.quiet,
            open: r.open,
        })
    }
}

impl EventTracker {
    /// A tracker at the start of a stream, with no event open.
    ///
    /// # Errors
    ///
    /// The errors of [`EventConfig`]'s [`check`](Check::check).
    pub fn new(config: impl IntoChecked<EventConfig>) -> Result<Self> {
        Ok(Self {
            config: config.into_checked()?,
            seen: 0,
            quiet: 0,
            open: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Checked<EventConfig> {
        &self.config
    }

    /// The number of verdicts pushed so far, which is the index the next one gets.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The event still open (its alarms so far), if any.
    pub fn open_event(&self) -> Option<&Event> {
        self.open.as_ref()
    }

    /// Takes the next verdict of the stream and returns the event it closes, if any
    /// (see the [module notes](self)): the open event when this is its `rearm`-th
    /// consecutive quiet verdict, or when this alarm brings it to the maximum length
    /// (the event then includes this alarm) or would take it beyond (this alarm then
    /// opens the next event).
    #[inline]
    pub fn push(&mut self, verdict: &Verdict) -> Option<Event> {
        let index = self.seen;
        self.seen = self.seen.saturating_add(1);
        if verdict.warming_up || verdict.missing {
            return None;
        }
        if !verdict.is_anomaly {
            self.open.as_ref()?;
            self.quiet += 1;
            if self.quiet >= self.config.rearm_u64() {
                self.quiet = 0;
                return self.open.take();
            }
            return None;
        }
        self.quiet = 0;
        let max = self.config.max_span();
        let mut closed = None;
        let event = match self.open.take() {
            Some(mut e) if index.saturating_sub(e.start) < max => {
                e.join(index, verdict);
                e
            }
            Some(e) => {
                closed = Some(e);
                Event::opened(index, verdict)
            }
            None => Event::opened(index, verdict),
        };
        // When an event was just closed, the new one has span 1 < max (the closed
        // one would otherwise have closed at its first alarm).
        if closed.is_none() && event.span() >= max {
            return Some(event);
        }
        self.open = Some(event);
        closed
    }

    /// Closes the open event at the end of a stream and returns it (`None` when no
    /// event is open). Indices keep counting if more verdicts are pushed after.
    pub fn flush(&mut self) -> Option<Event> {
        self.quiet = 0;
        self.open.take()
    }
}

/// Groups a whole slice of verdicts into events (an [`EventTracker`] fed every
/// verdict, then flushed): indices are positions in `verdicts`.
///
/// # Errors
///
/// The errors of [`EventConfig`]'s [`check`](Check::check).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), tailcast::Error> {
/// use tailcast::events::{EventConfig, group_events};
/// use tailcast::{AnomalyDetector, DetectorConfig, ForecasterConfig};
///
/// let config = DetectorConfig::default().forecaster(ForecasterConfig::default().window(100));
/// let mut detector = AnomalyDetector::new(config)?;
/// let ys: Vec<f64> = (0..300)
///     .map(|t| if t == 250 { 50.0 } else { ((t * 7919) % 1009) as f64 / 1009.0 })
///     .collect();
/// let verdicts = detector.score(&ys)?;
/// let events = group_events(&verdicts, EventConfig::default())?;
/// assert_eq!(events.len(), 1);
/// assert_eq!((events[0].start, events[0].alarms), (250, 1));
/// # Ok(())
/// # }
/// ```
pub fn group_events(
    verdicts: &[Verdict],
    config: impl IntoChecked<EventConfig>,
) -> Result<Vec<Event>> {
    let mut tracker = EventTracker::new(config)?;
    let mut events: Vec<Event> = verdicts.iter().filter_map(|v| tracker.push(v)).collect();
    events.extend(tracker.flush());
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AnomalyDetector, DetectorConfig};
    use proptest::prelude::*;

    /// What a test verdict is.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Kind {
        Warmup,
        Missing,
        Quiet,
        /// An alarm with this score on this side.
        Alarm(f64, Side),
    }
    use Kind::{Alarm, Missing, Quiet, Warmup};

    /// A verdict of the given kind, made from a real one by changing its fields (so
    /// the tests do not depend on the full list of `Verdict`'s fields).
    fn verdict(kind: Kind) -> Verdict {
        static BASE: std::sync::OnceLock<Verdict> = std::sync::OnceLock::new();
        let mut v = *BASE.get_or_init(|| {
            AnomalyDetector::new(DetectorConfig::default())
                .unwrap()
                .update(f64::NAN)
                .unwrap()
        });
        (v.warming_up, v.missing, v.is_anomaly) = (false, false, false);
        match kind {
            Warmup => v.warming_up = true,
            Missing => v.missing = true,
            Quiet => {
                (v.p_value, v.score, v.side) = (0.5, 0.5f64.log10().abs(), Side::Upper);
            }
            Alarm(score, side) => {
                v.is_anomaly = true;
                (v.score, v.p_value, v.side) = (score, 10f64.powf(-score), side);
            }
        }
        v
    }

    fn up(score: f64) -> Kind {
        Alarm(score, Side::Upper)
    }

    fn down(score: f64) -> Kind {
        Alarm(score, Side::Lower)
    }

    fn verdicts(kinds: &[Kind]) -> Vec<Verdict> {
        kinds.iter().map(|&k| verdict(k)).collect()
    }

    fn quiet(n: usize) -> Vec<Kind> {
        vec![Quiet; n]
    }

    fn spans(events: &[Event]) -> Vec<(u64, u64)> {
        events.iter().map(|e| (e.start, e.end)).collect()
    }

    fn group(kinds: &[Kind], config: EventConfig) -> Vec<Event> {
        group_events(&verdicts(kinds), config).unwrap()
    }

    #[test]
    fn nearby_alarms_form_one_event_with_its_peak_and_side() {
        let mut k = vec![Warmup, Warmup, Quiet, up(3.5), Quiet, up(6.0), up(4.0)];
        k.extend(quiet(3));
        k.push(down(3.2));
        k.extend(quiet(20));
        k.push(down(4.5));
        k.extend(quiet(2));
        let events = group(&k, EventConfig::default());
        assert_eq!(spans(&events), [(3, 10), (31, 31)]);
        let e = events[0];
        assert_eq!((e.peak, e.peak_score, e.alarms), (5, 6.0, 4));
        assert_eq!(e.peak_p_value, 1e-6);
        assert_eq!(e.side, Side::TwoSided, "alarms on both sides");
        assert_eq!(e.span(), 8);
        let e = events[1];
        assert_eq!((e.peak, e.alarms, e.side), (31, 1, Side::Lower));
        // One-sided events keep their side; a tie keeps the first peak.
        let events = group(&[up(4.0), Quiet, up(4.0)], EventConfig::default());
        assert_eq!(
            (events[0].side, events[0].peak, events[0].alarms),
            (Side::Upper, 0, 2)
        );
    }

    #[test]
    fn an_event_closes_after_exactly_rearm_quiet_verdicts() {
        for rearm in [1, 2, 5, 10] {
            let config = EventConfig::default().rearm(rearm);
            // rearm - 1 quiet verdicts between alarms: one event.
            let mut k = vec![up(4.0)];
            k.extend(quiet(rearm - 1));
            k.push(up(4.0));
            assert_eq!(spans(&group(&k, config)), [(0, rearm as u64)], "{rearm}");
            // rearm quiet verdicts: two events.
            let mut k = vec![up(4.0)];
            k.extend(quiet(rearm));
            k.push(up(4.0));
            let far = rearm as u64 + 1;
            assert_eq!(spans(&group(&k, config)), [(0, 0), (far, far)], "{rearm}");
        }
        // The event is returned by the push of the rearm-th quiet verdict.
        let mut t = EventTracker::new(EventConfig::default().rearm(3)).unwrap();
        assert_eq!(t.push(&verdict(up(4.0))), None);
        assert_eq!(t.open_event().map(|e| e.start), Some(0));
        assert_eq!(t.push(&verdict(Quiet)), None);
        assert_eq!(t.push(&verdict(Quiet)), None);
        let e = t
            .push(&verdict(Quiet))
            .expect("closed by the third quiet verdict");
        assert_eq!((e.start, e.end), (0, 0));
        assert_eq!(t.open_event(), None);
        assert_eq!(t.seen(), 4);
    }

    #[test]
    fn missing_and_warmup_verdicts_neither_close_nor_count() {
        let config = EventConfig::default().rearm(2);
        // Quiet, missing, warm-up, quiet: only two quiet verdicts would close, and a
        // gap in between does not reset the count.
        let k = [
            up(4.0),
            Quiet,
            Missing,
            Warmup,
            Missing,
            up(5.0),
            Quiet,
            Missing,
        ];
        let events = group(&k, config);
        assert_eq!(spans(&events), [(0, 5)]);
        assert_eq!((events[0].peak, events[0].alarms), (5, 2));
        let k = [up(4.0), Quiet, Missing, Quiet, up(5.0)];
        assert_eq!(spans(&group(&k, config)), [(0, 0), (4, 4)]);
        // A long gap of missing values keeps the event open.
        let mut k = vec![up(4.0)];
        k.extend(vec![Missing; 1000]);
        k.push(up(4.0));
        assert_eq!(spans(&group(&k, config)), [(0, 1001)]);
        // An alarm flag on an unscored verdict is ignored.
        let mut v = verdict(Missing);
        v.is_anomaly = true;
        assert!(group_events(&[v], config).unwrap().is_empty());
    }

    #[test]
    fn max_len_cuts_long_events() {
        let config = EventConfig::default().max_len(3);
        // A run of 7 alarms: closed at the third alarm of each piece.
        let mut t = EventTracker::new(config).unwrap();
        let closed: Vec<Option<(u64, u64)>> = (0..7)
            .map(|_| t.push(&verdict(up(4.0))).map(|e| (e.start, e.end)))
            .collect();
        assert_eq!(
            closed,
            [None, None, Some((0, 2)), None, None, Some((3, 5)), None]
        );
        assert_eq!(t.flush().map(|e| (e.start, e.end)), Some((6, 6)));
        // An alarm that would exceed the span after a gap closes the event and
        // opens the next.
        let k = [up(4.0), Quiet, Missing, up(5.0), up(6.0)];
        let mut t = EventTracker::new(config).unwrap();
        let pushed: Vec<_> = k.iter().map(|&k| t.push(&verdict(k))).collect();
        assert_eq!(pushed[..3], [None, None, None]);
        assert_eq!(pushed[3].map(|e| (e.start, e.end)), Some((0, 0)));
        assert_eq!(t.open_event().map(|e| (e.start, e.end)), Some((3, 4)));
        // max_len 1: every alarm is its own event, closed at once.
        let config = EventConfig::default().max_len(1);
        let mut t = EventTracker::new(config).unwrap();
        for i in 0..3 {
            assert_eq!(t.push(&verdict(up(4.0))).map(|e| e.start), Some(i));
            assert_eq!(t.open_event(), None);
        }
    }

    #[test]
    fn flush_closes_the_open_event_once() {
        let mut t = EventTracker::new(EventConfig::default()).unwrap();
        assert_eq!(t.flush(), None);
        t.push(&verdict(up(4.0)));
        t.push(&verdict(Quiet));
        let e = t.flush().unwrap();
        assert_eq!((e.start, e.end, e.alarms), (0, 0, 1));
        assert_eq!(t.flush(), None);
        // Indices keep counting after a flush.
        assert_eq!(t.push(&verdict(up(4.0))), None);
        assert_eq!(t.open_event().map(|e| e.start), Some(2));
        assert!(group(&[], EventConfig::default()).is_empty());
        assert!(group(&quiet(30), EventConfig::default()).is_empty());
    }

    #[test]
    fn bad_configs_name_the_parameter() {
        let e = EventConfig::default().rearm(0).check().unwrap_err();
        assert_eq!(e.to_string(), "rearm must be >= 1, got 0");
        let e = EventTracker::new(EventConfig::default().max_len(0)).unwrap_err();
        assert_eq!(
            e,
            Error::InvalidCount {
                name: "max_len",
                value: 0,
                expected: ">= 1"
            }
        );
        assert!(group_events(&[], EventConfig::default().rearm(0)).is_err());
        assert_eq!(
            EventConfig::default().check().unwrap().rearm(),
            DEFAULT_REARM
        );
        assert_eq!(EventConfig::default().check().unwrap().max_len(), None);
    }

    /// A mixed stream: alarms on both sides with infinite scores, gaps, quiet runs.
    fn mixed_stream() -> Vec<Kind> {
        (0..400u64)
            .map(|i| match (i * 2_654_435_761) % 97 {
                0..=5 => up(3.0 + (i % 7) as f64),
                6..=8 => down(3.5 + (i % 3) as f64),
                9 => up(f64::INFINITY),
                10..=14 => Missing,
                _ if i < 20 => Warmup,
                _ => Quiet,
            })
            .collect()
    }

    /// An event's fields with the floats as bits (every NaN as one: JSON keeps NaN,
    /// not its payload).
    fn bits(e: &Option<Event>) -> Option<(u64, u64, u64, u64, u64, Side, u64)> {
        let b = |x: f64| if x.is_nan() { f64::NAN } else { x }.to_bits();
        e.map(|e| {
            (
                e.start,
                e.end,
                e.peak,
                b(e.peak_score),
                b(e.peak_p_value),
                e.side,
                e.alarms,
            )
        })
    }

    #[test]
    fn serde_round_trip_mid_stream_continues_identically() {
        let stream = verdicts(&mixed_stream());
        for config in [
            EventConfig::default(),
            EventConfig::default().rearm(3).max_len(7),
        ] {
            for cut in [0, 1, 25, 100, 203, 399, 400] {
                let mut a = EventTracker::new(config).unwrap();
                for v in &stream[..cut] {
                    a.push(v);
                }
                let json = serde_json::to_string(&a).unwrap();
                let mut b: EventTracker = serde_json::from_str(&json).unwrap();
                assert_eq!(b, a);
                for v in &stream[cut..] {
                    assert_eq!(bits(&a.push(v)), bits(&b.push(v)), "cut {cut}");
                }
                assert_eq!(bits(&a.flush()), bits(&b.flush()));
            }
        }
        // An infinite peak score survives JSON.
        let mut t = EventTracker::new(EventConfig::default()).unwrap();
        t.push(&verdict(up(f64::INFINITY)));
        let json = serde_json::to_string(&t).unwrap();
        let back: EventTracker = serde_json::from_str(&json).unwrap();
        assert_eq!(back.open_event().unwrap().peak_score, f64::INFINITY);
    }

    #[test]
    fn invalid_saved_states_fail_to_load() {
        let mut t = EventTracker::new(EventConfig::default().rearm(4).max_len(5)).unwrap();
        for k in [up(4.0), Quiet, up(5.0), Quiet] {
            t.push(&verdict(k));
        }
        let good: serde_json::Value = serde_json::to_value(&t).unwrap();
        assert!(serde_json::from_value::<EventTracker>(good.clone()).is_ok());
        let broken = |path: &str, value: serde_json::Value| {
            let mut v = good.clone();
            *v.pointer_mut(path).unwrap() = value;
            serde_json::from_value::<EventTracker>(v)
                .unwrap_err()
                .to_string()
        };
        assert!(broken("/config/rearm", 0.into()).contains("rearm must be >= 1"));
        assert!(broken("/seen", 2.into()).contains("not yet seen"));
        assert!(broken("/open/peak", 3.into()).contains("out of order"));
        assert!(broken("/open/alarms", 0.into()).contains("alarm count"));
        assert!(broken("/open/alarms", 4.into()).contains("alarm count"));
        assert!(broken("/open/end", 0.into()).contains("out of order"));
        assert!(broken("/quiet", 4.into()).contains("quiet count"));
        assert!(broken("/quiet", 2.into()).contains("quiet count"));
        assert!(broken("/config/max_len", 3.into()).contains("maximum length"));
        assert!(broken("/open", serde_json::Value::Null).contains("no event is open"));
    }

    fn kind() -> impl Strategy<Value = Kind> {
        let score = prop_oneof![
            4 => 0.0..20.0f64,
            1 => any::<f64>(),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
        ];
        let side = prop_oneof![Just(Side::Upper), Just(Side::Lower), Just(Side::TwoSided)];
        prop_oneof![
            1 => Just(Warmup),
            1 => Just(Missing),
            6 => Just(Quiet),
            3 => (score, side).prop_map(|(s, side)| Alarm(s, side)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn any_verdict_sequence_groups_consistently(
            kinds in proptest::collection::vec(kind(), 0..300),
            rearm in 1usize..12,
            max_len in proptest::option::of(1usize..20),
            cut in 0usize..300,
        ) {
            let mut config = EventConfig::default().rearm(rearm);
            if let Some(m) = max_len {
                config = config.max_len(m);
            }
            let vs = verdicts(&kinds);
            let events = group_events(&vs, config).unwrap();
            let alarm_at = |i: u64| matches!(kinds[i as usize], Alarm(..));
            let mut alarms = 0;
            let mut previous_end = None;
            for e in &events {
                prop_assert!(e.start <= e.peak && e.peak <= e.end);
                prop_assert!((e.end as usize) < kinds.len());
                prop_assert!(alarm_at(e.start) && alarm_at(e.end) && alarm_at(e.peak));
                prop_assert!(e.alarms >= 1 && e.alarms <= e.span());
                prop_assert_eq!(
                    e.alarms,
                    (e.start..=e.end).filter(|&i| alarm_at(i)).count() as u64
                );
                if let Some(m) = max_len {
                    prop_assert!(e.span() <= m as u64);
                }
                if let Some(p) = previous_end {
                    prop_assert!(e.start > p);
                }
                previous_end = Some(e.end);
                alarms += e.alarms;
            }
            let total = kinds.iter().filter(|k| matches!(k, Alarm(..))).count() as u64;
            prop_assert_eq!(alarms, total);
            // Between consecutive events: either rearm quiet verdicts, or a cut.
            for w in events.windows(2) {
                let quiet = (w[0].end..w[1].start)
                    .filter(|&i| kinds[i as usize] == Quiet)
                    .count();
                let cut_by_length = max_len
                    .is_some_and(|m| w[0].span() == m as u64 || w[1].start - w[0].start >= m as u64);
                prop_assert!(quiet >= rearm || cut_by_length);
            }
            // A tracker saved at any point continues identically.
            let cut = cut.min(kinds.len());
            let mut a = EventTracker::new(config).unwrap();
            let mut streamed: Vec<Event> = vs[..cut].iter().filter_map(|v| a.push(v)).collect();
            let mut b: EventTracker =
                serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
            for v in &vs[cut..] {
                let (ea, eb) = (a.push(v), b.push(v));
                prop_assert_eq!(bits(&ea), bits(&eb));
                streamed.extend(ea);
            }
            let last = a.flush();
            prop_assert_eq!(bits(&last), bits(&b.flush()));
            streamed.extend(last);
            // Streaming and the convenience function agree.
            prop_assert_eq!(streamed.len(), events.len());
            for (s, e) in streamed.iter().zip(&events) {
                prop_assert_eq!(bits(&Some(*s)), bits(&Some(*e)));
            }
        }
    }
}
