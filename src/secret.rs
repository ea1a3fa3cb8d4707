//! `Secret<T>`: a value that cannot be printed by accident.
//!
//! It has no `Display`, its `Debug` says `Secret([redacted])`, and the only
//! ways to the inner value are the explicit [`Secret::expose`] (a borrow),
//! [`Secret::into_inner`] and [`Secret::map`] (which consume it, so no copy
//! is left behind). Tokens, assertions and client secrets travel through
//! keyless in this type.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }
    pub fn expose(&self) -> &T {
        &self.0
    }
    /// The value itself, consuming the wrapper.
    pub fn into_inner(self) -> T {
        self.0
    }
    /// A secret derived from this one, consuming it.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Secret<U> {
        Secret(f(self.0))
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret<String> {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("sk-ant-oat01-abc".to_string());
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(s.expose(), "sk-ant-oat01-abc");
        let m = s.map(|v| v.len());
        assert_eq!(format!("{m:?}"), "Secret([redacted])");
        assert_eq!(m.into_inner(), 16);
    }
}
