//! The crate's one convention for non-finite numbers in saved state.
//!
//! JSON has no NaN or infinity (serde_json writes `null`, which does not read back as
//! a number), so every saved value that may legitimately be non-finite is written, in
//! a human-readable format, as one of the strings
//!
//! | value | written as |
//! |---|---|
//! | `+∞` | `"inf"` |
//! | `-∞` | `"-inf"` |
//! | NaN | `"NaN"` |
//!
//! and a finite value as a plain number. Reading accepts numbers, those strings and
//! their common spellings (`"nan"`, `"+inf"`, `"Infinity"`, `"-Infinity"`, any
//! case). Binary formats keep the `f64` as it is. The values round-trip bit for bit
//! (NaN as the canonical NaN).
//!
//! Where it applies (`#[serde(with = "crate::nonfinite")]`, [`vec`](mod@vec) for lists):
//!
//! * [`Verdict`](crate::Verdict): p-value, score, band and location (NaN while
//!   warming up, infinite bands and scores);
//! * [`Event`](crate::Event): the peak's score and p-value;
//! * [`RegionMae`](crate::metrics::RegionMae): NaN for a region without levels;
//! * [`SbpFit`](crate::fit::SbpFit), [`SbpEstimate`](crate::fit::SbpEstimate),
//!   [`GpdFit`](crate::fit::GpdFit), [`GpdEstimate`](crate::fit::GpdEstimate): the
//!   log-likelihood (`-∞` for a point of zero density);
//! * [`RollingForecaster`](crate::RollingForecaster) in its warm-up: missing
//!   observations are NaN in the buffer (states saved when they were written as
//!   `null` still read back).
//!
//! Every other saved float is finite by construction and checked when read (a
//! distribution's parameters, a window's residuals, a location model's state), so a
//! non-finite value there is an error, not a value.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

/// Writes `v` (see the module notes).
pub(crate) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() || !s.is_human_readable() {
        s.serialize_f64(*v)
    } else {
        s.serialize_str(name(*v))
    }
}

/// Reads a number or one of the strings of the module notes.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    if d.is_human_readable() {
        d.deserialize_any(F64OrName { null_is_nan: false })
    } else {
        d.deserialize_f64(F64OrName { null_is_nan: false })
    }
}

/// The string a non-finite value is written as.
fn name(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

/// The value of a string written for a non-finite number.
fn parse(v: &str) -> Option<f64> {
    let lower = v.to_ascii_lowercase();
    match lower.as_str() {
        "nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// The same convention for a list of values (`#[serde(with = "crate::nonfinite::vec")]`).
/// Reading also takes `null` as NaN: lists of missing values were written that way.
pub(crate) mod vec {
    use serde::de::{SeqAccess, Visitor};
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::F64OrName;

    /// Writes the values (see the module notes).
    pub(crate) fn serialize<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(values.len()))?;
        for v in values {
            seq.serialize_element(&Item(*v))?;
        }
        seq.end()
    }

    /// Reads the values (numbers, the strings of the module notes, or `null` for NaN).
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        d.deserialize_seq(Items)
    }

    struct Item(f64);

    impl serde::Serialize for Item {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::serialize(&self.0, s)
        }
    }

    impl<'de> Deserialize<'de> for Item {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let visitor = F64OrName { null_is_nan: true };
            if d.is_human_readable() {
                d.deserialize_any(visitor).map(Item)
            } else {
                d.deserialize_f64(visitor).map(Item)
            }
        }
    }

    struct Items;

    impl<'de> Visitor<'de> for Items {
        type Value = Vec<f64>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of numbers")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f64>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(Item(v)) = seq.next_element()? {
                out.push(v);
            }
            Ok(out)
        }
    }
}

struct F64OrName {
    /// Take `null` as NaN (the old form of missing values in lists).
    null_is_nan: bool,
}

impl Visitor<'_> for F64OrName {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a number or one of "inf", "-inf", "NaN""#)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
        if self.null_is_nan {
            Ok(f64::NAN)
        } else {
            Err(E::invalid_type(de::Unexpected::Unit, &self))
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<f64, E> {
        self.visit_unit()
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        parse(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for v in [f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(parse(name(v)), Some(v));
        }
        assert!(parse(name(f64::NAN)).is_some_and(f64::is_nan));
        for s in ["nan", "NAN", "Infinity", "+inf", "-Infinity"] {
            assert!(parse(s).is_some(), "{s}");
        }
        assert_eq!(parse("infinite"), None);
    }
}

/// The same convention for an optional list (`null` when absent).
pub(crate) mod option_vec {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    struct Values<'a>(&'a [f64]);

    impl Serialize for Values<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::vec::serialize(self.0, s)
        }
    }

    #[derive(Deserialize)]
    struct Owned(#[serde(with = "super::vec")] Vec<f64>);

    /// Writes `null` or the list (see the module notes).
    pub(crate) fn serialize<S: Serializer>(
        values: &Option<Vec<f64>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match values {
            None => s.serialize_none(),
            Some(v) => s.serialize_some(&Values(v)),
        }
    }

    /// Reads `null` or a list.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<f64>>, D::Error> {
        Ok(Option::<Owned>::deserialize(d)?.map(|o| o.0))
    }
}

/// An upper bound where `+∞` means "no bound" (`max_tail_shape`): written as an
/// optional number, `null` (none) for `+∞`, the form such settings were saved in
/// before they were stored as given; read back with `null` as `+∞`.
pub(crate) mod bound {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes `null` for `+∞`, else the number.
    pub(crate) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        let bound = if *v == f64::INFINITY { None } else { Some(*v) };
        bound.serialize(s)
    }

    /// Reads `null` as `+∞`.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
    }
}
