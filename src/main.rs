use std::process::ExitCode;

use clap::CommandFactory;
use clap::error::ErrorKind::InvalidUtf8;
use onfail::cli::{Cli, Command};
use onfail::context::Env;

/// The static musl build allocates through mimalloc (Cargo.toml says why).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    drop_empty_onfail_vars();
    let env = environment();
    let args: Vec<_> = std::env::args_os().collect();
    let exit = match onfail::cli::parse_from(args.clone()) {
        Ok(Cli { command: Command::Alert(command) }) => onfail::app::run(command, &env),
        Ok(Cli { command: Command::Serve(args) }) => onfail::serve::run(&args, &env),
        // --help and --version land here too, with exit code 0; usage errors exit 2.
        Err(error) => onfail::app::parse_failed(&name_non_utf8_variable(error), &args, &env),
    };
    ExitCode::from(exit.code())
}

/// The environment as text. Any program can set a variable that is not UTF-8, and one onfail
/// does not use must never stop an alert; the few it reads (`GITHUB_WORKFLOW`, ...) are text
/// for a message, so they are read lossily.
fn environment() -> Env {
    std::env::vars_os()
        .map(|(name, value)| (name.to_string_lossy().into_owned(), value.to_string_lossy().into_owned()))
        .collect()
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

/// clap's error for an `ONFAIL_*` variable that is not UTF-8 does not say which one it was.
fn name_non_utf8_variable(error: clap::Error) -> clap::Error {
    match non_utf8_option_var().filter(|_| error.kind() == InvalidUtf8) {
        Some((variable, option)) => {
            clap::Error::raw(InvalidUtf8, format!("{variable} ({option}) is not valid UTF-8; set it to UTF-8 text\n"))
        }
        None => error,
    }
}

/// The first `ONFAIL_*` variable that an option reads and that is not UTF-8, with its option.
fn non_utf8_option_var() -> Option<(String, String)> {
    let cli = Cli::command();
    let commands = std::iter::once(&cli).chain(cli.get_subcommands());
    let options = commands.flat_map(|command| command.get_arguments());
    options.filter_map(|arg| Some((arg.get_env()?, arg.get_long()?))).find_map(|(variable, long)| {
        let value = std::env::var_os(variable)?;
        value.to_str().is_none().then(|| (variable.to_string_lossy().into_owned(), format!("--{long}")))
    })
}
