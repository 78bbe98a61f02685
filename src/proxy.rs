//! Which proxy a request goes through (docs/delivery.md, "Delivery"): `HTTPS_PROXY` / `HTTP_PROXY` /
//! `ALL_PROXY` (or their lower-case forms) as curl reads them, minus the hosts in `NO_PROXY`.
//! Two rules on top: `NO_PROXY=*` turns proxies off for every host, IP addresses included, and a
//! loopback host (127.0.0.0/8, ::1, localhost) is never proxied, so a key meant for a local
//! test server is never handed to a proxy.

use crate::context::Env;

/// Loopback hosts, in `NO_PROXY` syntax.
const LOOPBACK: &str = "127.0.0.0/8,::1,localhost";

/// The proxies to set on the client, with a warning for each setting that could not be used.
/// An empty list means a direct connection for every host.
pub fn from_env(env: &Env) -> (Vec<reqwest::Proxy>, Vec<String>) {
    let first =
        |names: [&'static str; 2]| names.into_iter().find_map(|name| crate::context::var(env, name).map(|v| (name, v)));
    let no_proxy = first(["NO_PROXY", "no_proxy"]).map(|(_, v)| v).unwrap_or("");
    if no_proxy.split(',').any(|entry| entry.trim() == "*") {
        return (Vec::new(), Vec::new());
    }
    let exempt = || reqwest::NoProxy::from_string(&format!("{no_proxy},{LOOPBACK}"));
    let mut warnings = Vec::new();
    let mut proxy = |names: [&'static str; 2], make: fn(&str) -> reqwest::Result<reqwest::Proxy>| {
        let (name, value) = first(names)?;
        match make(value) {
            Ok(proxy) => Some(proxy.no_proxy(exempt())),
            Err(_) => {
                // The value may hold a proxy password, so it is not repeated.
                warnings.push(format!("{name} is not a usable proxy URL; connecting without it"));
                None
            }
        }
    };
    // In this order, so HTTPS_PROXY and HTTP_PROXY win over ALL_PROXY where both are set.
    let proxies = [
        proxy(["HTTPS_PROXY", "https_proxy"], |v| reqwest::Proxy::https(v)),
        proxy(["HTTP_PROXY", "http_proxy"], |v| reqwest::Proxy::http(v)),
        proxy(["ALL_PROXY", "all_proxy"], |v| reqwest::Proxy::all(v)),
    ];
    let proxies: Vec<reqwest::Proxy> = proxies.into_iter().flatten().collect();
    (proxies, warnings)
}
