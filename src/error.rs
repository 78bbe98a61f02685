//! The one error a user can cause before anything is sent: a usage or configuration error
//! (exit code 2), naming the option and how to fix it; and [`root_cause`], how any other error is
//! put in words. Low in the layers, so that the command line, the configuration, every provider
//! and every HTTP client can use them.

use std::fmt;

/// A usage or configuration error: names the option and says how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub option: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(option: &str, message: impl Into<String>) -> ConfigError {
        ConfigError { option: option.to_string(), message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.option, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The innermost cause of `error`, in its own words (the error itself when it has none): the
/// outer layers of a transport error say less and may repeat the URL.
pub fn root_cause(error: &dyn std::error::Error) -> String {
    let mut innermost = error;
    while let Some(cause) = innermost.source() {
        innermost = cause;
    }
    innermost.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with its text and, maybe, the error it wraps.
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|inner| inner as _)
        }
    }

    #[test]
    fn the_root_cause_is_the_innermost_error() {
        let refused = Layer("connection refused", None);
        let client = Layer("client error (Connect)", Some(Box::new(refused)));
        let request = Layer("error sending request for url (https://x.example/key)", Some(Box::new(client)));
        assert_eq!(root_cause(&request), "connection refused");
        assert_eq!(root_cause(&Layer("alone", None)), "alone");
    }
}
