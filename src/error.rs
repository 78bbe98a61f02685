//! The one error a user can cause before anything is sent: a usage or configuration error
//! (exit code 2), naming the option and how to fix it. Low in the layers, so that the command
//! line, the configuration and every provider can raise it.

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
