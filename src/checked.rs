//! Settings checked once: the pattern every configuration in the crate follows.
//!
//! A configuration (`SbpConfig`, `ForecasterConfig`, `DetectorConfig`, …) is an
//! unchecked builder: `Default` plus one setter per setting, named after the setting,
//! that stores what it is given and never corrects it. Its one verb, `check`, applies
//! every rule once and returns a [`Checked`] configuration, which is the only thing
//! the algorithms see and which reads every setting back through a getter with the
//! setting's plain name. Constructors take either form ([`IntoChecked`]): an unchecked
//! configuration is checked there, a checked one is used as it is, so no rule runs
//! twice. A checked configuration that is deserialized is checked again, so saved
//! state cannot smuggle a bad setting in.
//!
//! This is linfa's params → `check()` → validated params, with one generic wrapper
//! instead of a second struct per configuration.
//!
//! ```
//! # fn main() -> Result<(), tailcast::Error> {
//! use tailcast::{Check, Checked, EventConfig};
//! let config: Checked<EventConfig> = EventConfig::default().rearm(24).check()?;
//! assert_eq!(config.rearm(), 24);
//! // To change a setting, go back to the builder and check again.
//! let wider = config.into_config().max_len(168).check()?;
//! assert_eq!(wider.max_len(), Some(168));
//! let err = EventConfig::default().rearm(0).check().unwrap_err();
//! assert_eq!(err.to_string(), "rearm must be >= 1, got 0");
//! # Ok(())
//! # }
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Result;

/// A configuration whose every setting passed its [`Check`]: build one with the
/// configuration's `check()`; read it with the getters it has for that configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked<C>(C);

/// A configuration that can be checked: builder, `check`, then a [`Checked`] one.
pub trait Check: Clone {
    /// Applies every rule on the settings once.
    ///
    /// # Errors
    ///
    /// A typed [`Error`](crate::Error) naming the first setting at fault and its value.
    fn check(&self) -> Result<Checked<Self>>;
}

impl<C> Checked<C> {
    /// Wraps a configuration whose rules have just been applied. Only a `check` (or a
    /// parent's `check`, which checks its parts) calls this.
    pub(crate) fn after_check(config: C) -> Self {
        Self(config)
    }

    /// The unchecked builder the configuration came from.
    pub fn config(&self) -> &C {
        &self.0
    }

    /// The unchecked builder, to change a setting and check again.
    pub fn into_config(self) -> C {
        self.0
    }
}

/// A configuration, checked or not: what constructors accept.
pub trait IntoChecked<C> {
    /// The checked configuration: `self` checked, or `self` when it already is.
    ///
    /// # Errors
    ///
    /// The errors of [`Check::check`].
    fn into_checked(self) -> Result<Checked<C>>;
}

impl<C: Check> IntoChecked<C> for C {
    fn into_checked(self) -> Result<Checked<C>> {
        self.check()
    }
}

impl<C: Check> IntoChecked<C> for &C {
    fn into_checked(self) -> Result<Checked<C>> {
        self.check()
    }
}

impl<C> IntoChecked<C> for Checked<C> {
    fn into_checked(self) -> Result<Checked<C>> {
        Ok(self)
    }
}

impl<C: Clone> IntoChecked<C> for &Checked<C> {
    fn into_checked(self) -> Result<Checked<C>> {
        Ok(self.clone())
    }
}

/// Written as the configuration itself, so saved files do not change shape.
impl<C: Serialize> Serialize for Checked<C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// Read as the configuration, then checked.
impl<'de, C: Check + Deserialize<'de>> Deserialize<'de> for Checked<C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        C::deserialize(deserializer)?
            .check()
            .map_err(serde::de::Error::custom)
    }
}
