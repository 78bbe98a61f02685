use std::process::ExitCode;

use clap::Parser;
use onfail::cli::Cli;

fn main() -> ExitCode {
    drop_empty_onfail_vars();
    let env = std::env::vars().collect();
    let exit = match Cli::try_parse() {
        Ok(cli) => onfail::app::run(cli.command, &env),
        // --help and --version land here too, with exit code 0; usage errors exit 2.
        Err(error) => onfail::app::parse_failed(&error, &env),
    };
    ExitCode::from(exit.code())
}

/// An empty `ONFAIL_*` variable counts as unset (GitHub passes unset inputs as ""), but clap
/// takes an empty variable as a present, empty value; so empty ones are removed before parsing.
#[allow(unsafe_code)]
fn drop_empty_onfail_vars() {
    for (name, value) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ONFAIL_") && value.to_string_lossy().trim().is_empty() {
            // SAFETY: this runs first thing in main, before any other thread exists.
            unsafe { std::env::remove_var(name) }
        }
    }
}
