//! The crate's one error type.
//!
//! Every variant names the parameter (or the input) at fault and the value that was
//! rejected, so a message read in a log is enough to find the mistake.

/// Everything that can go wrong in `tailcast`.
///
/// Constructors validate their parameters once, so an object that exists is valid;
/// methods that take user data validate it and return one of these variants instead of
/// panicking or producing `NaN`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A scalar parameter is NaN or infinite.
    #[error("{name} must be finite, got {value}")]
    NonFiniteParameter {
        /// The parameter's name.
        name: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// A scale, width or other strictly positive parameter is zero or negative.
    #[error("{name} must be > 0, got {value}")]
    NonPositiveParameter {
        /// The parameter's name.
        name: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// A tail mass is outside the open interval (0, 0.5).
    #[error("{name} must be in (0, 0.5), got {value}")]
    TailMassOutOfRange {
        /// Which tail mass.
        name: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// A probability level (quantile level, risk level, ...) is outside its range.
    #[error("{name} must be in {expected}, got {value}")]
    ProbabilityOutOfRange {
        /// The parameter's name.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// The admissible range, e.g. "[0, 1]".
        expected: &'static str,
    },
    /// A finite scalar parameter is outside its admissible range.
    #[error("{name} must be {expected}, got {value}")]
    ParameterOutOfRange {
        /// The parameter's name.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What was expected, e.g. "< high".
        expected: &'static str,
    },
    /// A count (number of bins, window length, ...) is outside its range.
    #[error("{name} must be {expected}, got {value}")]
    InvalidCount {
        /// The parameter's name.
        name: &'static str,
        /// The rejected value.
        value: usize,
        /// What was expected, e.g. ">= 1".
        expected: &'static str,
    },
    /// An element of a slice (data, weights, edges, probabilities) is NaN or infinite.
    #[error("{name}[{index}] must be finite, got {value}")]
    NonFiniteValue {
        /// The slice's name.
        name: &'static str,
        /// Position of the offending element.
        index: usize,
        /// The rejected value.
        value: f64,
    },
    /// An element of a slice is finite but outside its admissible range (a PIT value
    /// outside [0, 1], a left cdf limit above the cdf, ...).
    #[error("{name}[{index}] must be {expected}, got {value}")]
    ValueOutOfRange {
        /// The slice's name.
        name: &'static str,
        /// Position of the offending element.
        index: usize,
        /// The rejected value.
        value: f64,
        /// What was expected, e.g. "in [0, 1]".
        expected: &'static str,
    },
    /// Bin edges are not strictly increasing (a bin would have zero or negative width).
    #[error("edges must be strictly increasing, got edges[{index}] = {left} >= edges[{}] = {right}", index + 1)]
    EdgesNotIncreasing {
        /// Index of the left edge of the offending bin.
        index: usize,
        /// The left edge.
        left: f64,
        /// The right edge.
        right: f64,
    },
    /// An element of a data slice is zero or negative where only positive values make
    /// sense (for example the exceedances a generalized Pareto law is fitted to).
    #[error("{name}[{index}] must be > 0, got {value}")]
    NonPositiveValue {
        /// The slice's name.
        name: &'static str,
        /// Position of the offending element.
        index: usize,
        /// The rejected value.
        value: f64,
    },
    /// A bin probability is negative.
    #[error("probs[{index}] must be >= 0, got {value}")]
    NegativeProbability {
        /// Index of the offending bin.
        index: usize,
        /// The rejected value.
        value: f64,
    },
    /// Probabilities (or weights) sum to zero, or their sum overflows.
    #[error("{name} must have a positive finite sum, got {sum}")]
    InvalidTotal {
        /// The slice's name.
        name: &'static str,
        /// The sum that was found.
        sum: f64,
    },
    /// A weight is negative.
    #[error("weights[{index}] must be >= 0, got {value}")]
    NegativeWeight {
        /// Index of the offending weight.
        index: usize,
        /// The rejected value.
        value: f64,
    },
    /// Two slices that must have the same length do not.
    #[error("{name} must have length {expected}, got {got}")]
    LengthMismatch {
        /// The slice's name.
        name: &'static str,
        /// The required length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Not enough data to estimate what was asked for.
    #[error("{what} needs at least {needed} observations, got {got}")]
    TooFewObservations {
        /// What was being estimated.
        what: &'static str,
        /// The minimum required.
        needed: usize,
        /// How many were available.
        got: usize,
    },
    /// All observations are equal, so no spread can be estimated.
    #[error("{what} needs data with spread, but every observation equals {value}")]
    ConstantData {
        /// What was being estimated.
        what: &'static str,
        /// The common value.
        value: f64,
    },
    /// A streaming observation is infinite (NaN is treated as missing, not as an error).
    #[error("observation must be finite or NaN (missing), got {value}")]
    InfiniteObservation {
        /// The rejected value.
        value: f64,
    },
    /// The optimiser did not reach a maximum of the likelihood.
    #[error("{what} did not converge after {iterations} iterations")]
    NotConverged {
        /// What was being fitted.
        what: &'static str,
        /// Iterations spent.
        iterations: u64,
    },
    /// A feature (an element of a feature matrix) is NaN or infinite.
    #[error("feature x[{row}, {column}] must be finite, got {value}")]
    NonFiniteFeature {
        /// The row (observation) holding it.
        row: usize,
        /// The column (feature) holding it.
        column: usize,
        /// The rejected value.
        value: f64,
    },
    /// A feature column has no spread (every row holds the same value), so it cannot
    /// be standardised and its coefficients are not identified.
    #[error("feature column {column} must vary, but every row equals {value}")]
    ConstantFeature {
        /// The column (feature) at fault.
        column: usize,
        /// The common value.
        value: f64,
    },
    /// A deserialised forecaster or detector state contradicts itself.
    #[error("invalid saved state: {reason}")]
    InvalidState {
        /// What does not fit.
        reason: &'static str,
    },
    /// A forecast was requested before the model has seen enough data.
    #[error("not enough data yet: {needed} observations needed, {got} seen")]
    NotReady {
        /// Observations needed before the first forecast.
        needed: usize,
        /// Observations seen so far.
        got: usize,
    },
}

/// `Result` with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks that a scalar parameter is finite.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::NonFiniteParameter { name, value })
    }
}

/// Checks that a scalar parameter is finite and strictly positive.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64> {
    finite(name, value)?;
    if value > 0.0 {
        Ok(value)
    } else {
        Err(Error::NonPositiveParameter { name, value })
    }
}

/// Checks that every element of a slice is finite.
pub(crate) fn all_finite(name: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFiniteValue {
            name,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_thread_safe_and_static() {
        fn assert_bounds<T: Send + Sync + 'static + std::error::Error>() {}
        assert_bounds::<Error>();
    }

    #[test]
    fn messages_name_parameter_and_value() {
        let e = positive("scale", -1.5).unwrap_err();
        assert_eq!(e.to_string(), "scale must be > 0, got -1.5");
        let e = finite("shape", f64::NAN).unwrap_err();
        assert_eq!(e.to_string(), "shape must be finite, got NaN");
        let e = all_finite("data", &[1.0, f64::INFINITY]).unwrap_err();
        assert_eq!(e.to_string(), "data[1] must be finite, got inf");
        let e = Error::EdgesNotIncreasing {
            index: 3,
            left: 1.0,
            right: 1.0,
        };
        assert_eq!(
            e.to_string(),
            "edges must be strictly increasing, got edges[3] = 1 >= edges[4] = 1"
        );
        let e = Error::NonFiniteFeature {
            row: 7,
            column: 1,
            value: f64::NAN,
        };
        assert_eq!(e.to_string(), "feature x[7, 1] must be finite, got NaN");
        let e = Error::ConstantFeature {
            column: 2,
            value: 2.5,
        };
        assert_eq!(
            e.to_string(),
            "feature column 2 must vary, but every row equals 2.5"
        );
    }
}
