use std::process::ExitCode;

use clap::Parser;
use onfail::cli::Cli;

fn main() -> ExitCode {
    drop_empty_onfail_vars();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // --help and --version land here too, with exit code 0; usage errors exit 2.
            let _ = error.print();
            return ExitCode::from(error.exit_code().clamp(0, 255) as u8);
        }
    };
    let env = std::env::vars().collect();
    ExitCode::from(onfail::app::run(cli.command, &env).code())
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
