//! The action and the command line stay one interface (docs/reference.md, "Action inputs"): every input of
//! `action.yml` is a flag of `onfail send` with the same name, reaching the binary as
//! `ONFAIL_<NAME>` through `env:`, and every flag of `onfail send` is an input. A flag added
//! without its input, or an input whose `env:` line was forgotten, fails here.
//!
//! `action.yml` is read line by line (no YAML dependency for one test): the two-space keys under
//! `inputs:`, and the `ONFAIL_*: ${{ inputs.* }}` lines of each step's `env:` block.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use clap::CommandFactory;
use onfail::cli::Cli;

/// Inputs that are the action's own, with no flag: how the binary is installed.
const ACTION_ONLY: [&str; 1] = ["install"];

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// `foo-bar` → `ONFAIL_FOO_BAR`, the naming rule of docs/reference.md, "Options".
fn env_name(input: &str) -> String {
    format!("ONFAIL_{}", input.to_ascii_uppercase().replace('-', "_"))
}

/// The input names, with whether each has a non-empty description.
fn inputs(action: &str) -> BTreeMap<String, bool> {
    let mut found = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in action.lines().skip_while(|l| *l != "inputs:").skip(1) {
        if line.starts_with(|c: char| !c.is_whitespace() && c != '#') {
            break; // the next top-level key
        }
        if let Some(key) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
            if !key.starts_with(' ') && !key.starts_with('#') {
                found.insert(key.to_string(), false);
                current = Some(key.to_string());
            }
        } else if let (Some(name), Some(text)) = (&current, line.trim_start().strip_prefix("description:")) {
            found.insert(name.clone(), !text.trim().trim_matches('"').is_empty());
        }
    }
    found
}

/// Each step (by its `id`) → its `env:` lines that pass an input: variable → input name.
fn step_envs(action: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut steps = BTreeMap::new();
    let mut step = String::new();
    for line in action.lines() {
        let trimmed = line.trim();
        if let Some(id) = trimmed.strip_prefix("- id: ") {
            step = id.to_string();
        }
        let Some((var, value)) = trimmed.split_once(": ") else { continue };
        if let Some(input) = value.strip_prefix("${{ inputs.").and_then(|v| v.strip_suffix(" }}")) {
            steps.entry(step.clone()).or_insert_with(BTreeMap::new).insert(var.to_string(), input.to_string());
        }
    }
    steps
}

/// The long flags of `onfail send`, each with its environment variable.
fn send_flags() -> BTreeMap<String, Option<String>> {
    let cli = Cli::command();
    let send = cli.find_subcommand("send").expect("onfail send");
    send.get_arguments()
        .filter(|arg| !matches!(arg.get_id().as_str(), "help" | "version"))
        .map(|arg| {
            let long = arg.get_long().unwrap_or_else(|| panic!("{} has no long flag", arg.get_id())).to_string();
            (long, arg.get_env().map(|e| e.to_string_lossy().into_owned()))
        })
        .collect()
}

#[test]
fn the_reader_finds_the_inputs_and_the_env_lines() {
    let action = read("action.yml");
    let inputs = inputs(&action);
    assert!(inputs.len() > 20 && inputs.contains_key("status") && inputs.contains_key("install"), "{inputs:?}");
    assert!(!inputs.contains_key("result"), "outputs are not inputs: {inputs:?}");
    let envs = step_envs(&action);
    assert_eq!(envs["run"].get("ONFAIL_STATUS").map(String::as_str), Some("status"));
    assert_eq!(envs["install"].get("ONFAIL_INSTALL").map(String::as_str), Some("install"));
}

#[test]
fn every_input_is_a_send_flag_passed_through_env() {
    let action = read("action.yml");
    let envs = step_envs(&action);
    let flags = send_flags();
    let mut wrong = Vec::new();
    for (input, described) in inputs(&action) {
        if !described {
            wrong.push(format!("input {input} has no description"));
        }
        let step = if ACTION_ONLY.contains(&input.as_str()) { "install" } else { "run" };
        match envs[step].iter().find(|(_, i)| **i == input) {
            Some((var, _)) if *var == env_name(&input) => {}
            Some((var, _)) => wrong.push(format!("input {input} is passed as {var}, not {}", env_name(&input))),
            None => wrong.push(format!("input {input} is not passed to the {step} step's env:")),
        }
        if !ACTION_ONLY.contains(&input.as_str()) && !flags.contains_key(&input) {
            wrong.push(format!("input {input} is not a flag of onfail send"));
        }
    }
    assert!(wrong.is_empty(), "action.yml:\n  {}", wrong.join("\n  "));
}

#[test]
fn every_send_flag_is_an_input_with_its_env_name() {
    let action = read("action.yml");
    let inputs = inputs(&action);
    let mut wrong = Vec::new();
    for (flag, env) in send_flags() {
        if env.as_deref() != Some(env_name(&flag).as_str()) {
            wrong.push(format!("--{flag} reads {env:?}, not {}", env_name(&flag)));
        }
        if !inputs.contains_key(&flag) {
            wrong.push(format!("--{flag} has no input in action.yml"));
        }
    }
    assert!(wrong.is_empty(), "\n  {}", wrong.join("\n  "));
}

#[test]
fn every_input_is_in_the_reference() {
    // docs/reference.md is generated (tests/it/docs.rs); this names a missing input directly.
    let reference = read("docs/reference.md");
    let missing: Vec<String> =
        inputs(&read("action.yml")).into_keys().filter(|input| !reference.contains(&format!("`{input}`"))).collect();
    assert!(missing.is_empty(), "docs/reference.md does not list: {missing:?}");
}

#[test]
fn no_run_script_holds_an_expression() {
    // Inputs reach the scripts through env: only (docs/security.md, "Security").
    let action = read("action.yml");
    // The indentation of the `run:` key whose script the following lines belong to.
    let mut run_indent: Option<usize> = None;
    let mut wrong = BTreeSet::new();
    for line in action.lines() {
        let indent = line.len() - line.trim_start().len();
        let key = line.trim_start().trim_start_matches("- ");
        if run_indent.is_some_and(|run| indent <= run && !line.trim().is_empty()) {
            run_indent = None;
        }
        if key.starts_with("run:") {
            run_indent = Some(indent);
        }
        if run_indent.is_some() && line.contains("${{") {
            wrong.insert(line.trim().to_string());
        }
    }
    assert!(wrong.is_empty(), "{wrong:?}");
}
