//! `onfail serve`'s options, validated into plain values (docs/service.md, "onfail serve"). Every error
//! names the option and the fix; none repeats a secret (the redactor is built before this runs).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::checks::config::{self, ChecksConfig};
use crate::cli::ServeArgs;
use crate::context::Env;
use crate::error::ConfigError;
use crate::history::state::default_dir;
use crate::values::{check_url, non_empty};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8087";

/// How to make a token, for the error that says one is missing. Hex needs no escaping in the
/// report URL's query string.
const MAKE_A_TOKEN: &str =
    "make one with `openssl rand -hex 32` (or `head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'`)";

/// A token shorter than this could be guessed.
const MIN_TOKEN: usize = 16;

/// The long names of `onfail send`'s options: the keys a check may set for itself.
fn send_options() -> BTreeSet<String> {
    let cli = crate::cli::command();
    let send = cli.find_subcommand("send");
    send.into_iter()
        .flat_map(|send| send.get_arguments())
        .filter_map(|arg| arg.get_long().map(str::to_string))
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub store: StoreUrl,
    pub receive_token: String,
    pub api_token: String,
    /// Without a trailing slash; `None`: the listen URL, known once the port is.
    pub public_url: Option<String>,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub forward_reports_to: Option<reqwest::Url>,
    /// The checks and watches of `--config` (none without it).
    pub checks: ChecksConfig,
    /// `--github-token`: needed when there are watches.
    pub github_token: Option<String>,
}

impl Settings {
    pub fn from_args(args: &ServeArgs, env: &Env) -> Result<Settings, ConfigError> {
        let listen = non_empty(&args.listen).unwrap_or(DEFAULT_LISTEN);
        let listen: SocketAddr = listen.trim().parse().map_err(|_| {
            ConfigError::new(
                "--listen",
                "is not an address and port: give one such as 127.0.0.1:8087, 0.0.0.0:8087 or [::]:8087 (port 0 picks a free one)",
            )
        })?;
        let receive_token = token("--receive-token", "ONFAIL_RECEIVE_TOKEN", &args.receive_token)?;
        if let Some(bad) = receive_token.chars().find(|c| !(c.is_ascii_alphanumeric() || "-._~".contains(*c))) {
            let what =
                if bad.is_ascii_graphic() { format!("'{bad}'") } else { "a space or a non-ASCII character".into() };
            return Err(ConfigError::new(
                "--receive-token",
                format!(
                    "goes into the report URL and must be URL-safe (letters, digits, - . _ ~), not {what}: {MAKE_A_TOKEN}"
                ),
            ));
        }
        let api_token = token("--api-token", "ONFAIL_API_TOKEN", &args.api_token)?;
        let store = match non_empty(&args.store) {
            Some(url) => store_url(url.trim())?,
            None => StoreUrl::Sqlite(default_dir(env).map(|dir| dir.join("serve.db")).ok_or_else(|| {
                ConfigError::new(
                    "--store",
                    "has no default here (neither XDG_STATE_HOME nor HOME is set): give sqlite://PATH",
                )
            })?),
        };
        let public_url = match non_empty(&args.public_url) {
            None => None,
            Some(url) => {
                let parsed = reqwest::Url::parse(url.trim()).map_err(|_| {
                    ConfigError::new(
                        "--public-url",
                        "is not a URL: give the address people reach, e.g. https://onfail.example.com",
                    )
                })?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
                    return Err(ConfigError::new("--public-url", "must be an http:// or https:// URL without a query"));
                }
                Some(parsed.as_str().trim_end_matches('/').to_string())
            }
        };
        let tls = match (&args.tls_cert, &args.tls_key) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
            (Some(_), None) => {
                return Err(ConfigError::new("--tls-key", "is needed with --tls-cert: give the PEM private key"));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new("--tls-cert", "is needed with --tls-key: give the PEM certificate chain"));
            }
        };
        let forward_reports_to =
            non_empty(&args.forward_reports_to).map(|url| check_url("--forward-reports-to", url)).transpose()?;
        let checks = match &args.config {
            None => ChecksConfig::default(),
            Some(path) if !path.is_file() => {
                return Err(ConfigError::new(
                    "--config",
                    "is not a readable file: give the path of the TOML file of checks",
                ));
            }
            Some(path) => config::read(path, &send_options())?,
        };
        let github_token = non_empty(&args.github_token).map(|token| token.trim().to_string());
        if !checks.watches.is_empty() && github_token.is_none() {
            return Err(ConfigError::new(
                "--github-token",
                "is required for the [[watch]] tables of --config: give a token that can read the repository's Actions \
                 (actions: read) and, for a schedule read from the workflow file, its contents (contents: read), as \
                 --github-token or ONFAIL_GITHUB_TOKEN",
            ));
        }
        Ok(Settings {
            listen,
            store,
            receive_token,
            api_token,
            public_url,
            tls,
            forward_reports_to,
            checks,
            github_token,
        })
    }
}

fn token(option: &str, variable: &str, value: &Option<String>) -> Result<String, ConfigError> {
    let Some(value) = non_empty(value) else {
        return Err(ConfigError::new(
            option,
            format!("is required: {MAKE_A_TOKEN}, then pass it as {option} or {variable}"),
        ));
    };
    let value = value.trim();
    if value.chars().count() < MIN_TOKEN {
        return Err(ConfigError::new(
            option,
            format!("is too short to be a secret (at least {MIN_TOKEN} characters): {MAKE_A_TOKEN}"),
        ));
    }
    Ok(value.to_string())
}

fn store_url(url: &str) -> Result<StoreUrl, ConfigError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(StoreUrl::Postgres(url.to_string()));
    }
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
    match path {
        Some(path) if !path.is_empty() => Ok(StoreUrl::Sqlite(PathBuf::from(path))),
        _ => Err(ConfigError::new("--store", "must be sqlite://PATH or postgres://USER@HOST/DATABASE")),
    }
}

/// The store as the log shows it: a PostgreSQL URL without its password.
pub fn shown_store(store: &StoreUrl) -> String {
    match store {
        StoreUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        StoreUrl::Postgres(url) => match reqwest::Url::parse(url) {
            Ok(mut parsed) => {
                if parsed.password().is_some() {
                    let _ = parsed.set_password(Some("***"));
                }
                let query: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(k, v)| (k.to_string(), if k == "password" { "***".to_string() } else { v.to_string() }))
                    .collect();
                if !query.is_empty() {
                    parsed.query_pairs_mut().clear().extend_pairs(query);
                }
                parsed.to_string()
            }
            Err(_) => "postgres://***".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls() {
        assert_eq!(store_url("sqlite:///var/lib/x.db").unwrap(), StoreUrl::Sqlite("/var/lib/x.db".into()));
        assert_eq!(store_url("sqlite:rel.db").unwrap(), StoreUrl::Sqlite("rel.db".into()));
        assert!(matches!(store_url("postgresql://u@h/d").unwrap(), StoreUrl::Postgres(_)));
        assert!(store_url("mysql://x").is_err());
        assert!(store_url("sqlite://").is_err());
    }

    #[test]
    fn the_shown_store_has_no_password() {
        let shown = shown_store(&StoreUrl::Postgres(
            "postgres://onfail:s3cret@db:5432/x?password=s3cret&sslmode=disable".into(),
        ));
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("onfail") && shown.contains("db:5432/x") && shown.contains("sslmode=disable"),
            "{shown}"
        );
    }
}
