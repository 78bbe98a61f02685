//! The documents a user reads (README.md, docs/*.md and the root pages) stay true: every fenced
//! YAML example parses as pasted (elisions are YAML comments), every relative link reaches a
//! file and a heading that exist, and `docs/reference.md` is what the clap definitions and
//! `action.yml` say (CONTRIBUTING.md, "Documentation"). Run as
//! `ONFAIL_BLESS=1 cargo test --test it docs::` to rewrite the reference after changing an option.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// README.md, the root pages and every page under docs/, as paths relative to the repository.
pub fn markdown_files() -> Vec<String> {
    let mut files: Vec<String> = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md", "SECURITY.md"]
        .into_iter()
        .filter(|f| root().join(f).exists())
        .map(str::to_string)
        .collect();
    let mut pages: Vec<String> = fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    pages.sort();
    files.extend(pages);
    files
}

/// A fenced code block: its info string, the line its body starts on (1-based), its body.
struct Block {
    lang: String,
    line: usize,
    body: String,
}

fn fenced_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String, usize, String)> = None; // fence, lang, line, body
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                if let Some(rest) = trimmed.strip_prefix("```") {
                    let fence = "`".repeat(3 + rest.chars().take_while(|c| *c == '`').count());
                    open = Some((fence.clone(), rest.trim_start_matches('`').trim().to_string(), n + 2, String::new()));
                }
            }
            Some((fence, lang, start, body)) => {
                if trimmed.starts_with(fence.as_str()) && trimmed.trim_start_matches('`').trim().is_empty() {
                    blocks.push(Block { lang: lang.clone(), line: *start, body: std::mem::take(body) });
                    open = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    blocks
}

/// The text of a page outside its code blocks and inline code, where links are.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if !in_fence {
            // Inline code is not a link: `[x](y)` inside backticks is dropped.
            let mut kept = String::new();
            for (i, part) in line.split('`').enumerate() {
                if i % 2 == 0 {
                    kept.push_str(part);
                }
            }
            out.push_str(&kept);
            out.push('\n');
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped (but `-` and `_`), spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence && line.starts_with('#') {
            let heading = line.trim_start_matches('#');
            if heading.starts_with(' ') {
                let mut anchor = slug(heading);
                let mut n = 0;
                while !anchors.insert(anchor.clone()) {
                    n += 1;
                    anchor = format!("{}-{n}", slug(heading));
                }
            }
        }
    }
    anchors
}

/// Every `](target)` of a page's prose.
fn links(text: &str) -> Vec<String> {
    let prose = prose(text);
    prose
        .match_indices("](")
        .filter_map(|(at, _)| prose[at + 2..].split_once(')').map(|(target, _)| target.to_string()))
        .collect()
}

#[test]
fn every_relative_link_resolves() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let text = read(&root().join(&file));
        let dir = Path::new(&file).parent().unwrap();
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = link.split_once('#').map_or((link.as_str(), None), |(p, a)| (p, Some(a)));
            let target = if path.is_empty() { PathBuf::from(&file) } else { normalize(&dir.join(path)) };
            let shown = target.to_string_lossy().replace('\\', "/");
            if !root().join(&target).exists() {
                wrong.push(format!("{file}: the link ({link}) names {shown}, which does not exist"));
                continue;
            }
            checked += 1;
            if let Some(anchor) = anchor
                && !anchors(&read(&root().join(&target))).contains(anchor)
            {
                wrong.push(format!("{file}: the link ({link}) names #{anchor}, which {shown} has no heading for"));
            }
        }
    }
    assert!(checked > 50, "only {checked} links were checked");
    assert!(wrong.is_empty(), "\n  {}", wrong.join("\n  "));
}

/// `docs/../README.md` → `README.md`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn every_yaml_example_parses_as_pasted() {
    let mut wrong = Vec::new();
    let mut parsed = 0;
    for file in markdown_files() {
        for block in fenced_blocks(&read(&root().join(&file))).into_iter().filter(|b| b.lang == "yaml") {
            parsed += 1;
            if let Err(e) = YamlLoader::load_from_str(&block.body) {
                wrong.push(format!("{file}:{}: not YAML: {e}", block.line));
            }
            // An elision is a comment (`# build and test jobs`), never a bare `…` that parses
            // as a string and breaks the user's workflow.
            for (n, line) in block.body.lines().enumerate() {
                let code = line.split(" #").next().unwrap_or(line);
                if !code.trim_start().starts_with('#') && (code.contains('…') || code.contains("...")) {
                    wrong.push(format!("{file}:{}: an elision outside a comment: {line}", block.line + n));
                }
            }
        }
    }
    assert!(parsed > 15, "only {parsed} YAML examples were found");
    assert!(wrong.is_empty(), "\n  {}", wrong.join("\n  "));
}

/// Every `--config` example (a TOML block) is a file `onfail serve` accepts as pasted, with the
/// channel keys of `onfail send` a check may set.
#[test]
fn every_toml_example_is_a_config_onfail_serve_accepts() {
    let cli = onfail::cli::command();
    let send_options: BTreeSet<String> = cli
        .find_subcommand("send")
        .into_iter()
        .flat_map(|send| send.get_arguments())
        .filter_map(|arg| arg.get_long().map(str::to_string))
        .collect();
    let mut wrong = Vec::new();
    let mut parsed = 0;
    for file in markdown_files() {
        for block in fenced_blocks(&read(&root().join(&file))).into_iter().filter(|b| b.lang == "toml") {
            parsed += 1;
            if let Err(e) = onfail::serve::checks::config::parse(&block.body, &send_options) {
                wrong.push(format!("{file}:{}: {e}", block.line));
            }
        }
    }
    assert!(parsed >= 3, "only {parsed} TOML examples were found");
    assert!(wrong.is_empty(), "\n  {}", wrong.join("\n  "));
}

const BEGIN: &str = "<!-- BEGIN GENERATED (tests/it/docs.rs): do not edit by hand -->\n";
const END: &str = "<!-- END GENERATED -->\n";

/// An option's help, split into its meaning and the `[default: …]` clap shows after it.
fn meaning_and_default(arg: &clap::Arg) -> (String, String) {
    let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default().replace('\n', " ");
    match help.rsplit_once(" [default: ") {
        Some((meaning, default)) => (meaning.to_string(), default.trim_end_matches(']').to_string()),
        None => (help, String::new()),
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// A value in code type; a description of one (`from the status and context`) stays prose.
fn code(text: &str) -> String {
    if text.is_empty() || text.contains(' ') { text.to_string() } else { format!("`{text}`") }
}

/// The options of some subcommands, one table per help heading, in the order `--help` shows them.
fn options_tables(out: &mut String, commands: &[&str], inputs: &BTreeSet<String>) {
    let cli = onfail::cli::command();
    let subs: Vec<&clap::Command> = commands.iter().map(|name| cli.find_subcommand(name).unwrap()).collect();
    let mut seen = BTreeSet::new();
    let mut headings: Vec<String> = Vec::new();
    let mut rows: Vec<(String, String)> = Vec::new(); // (heading, row)
    for sub in &subs {
        for arg in sub.get_arguments().filter(|a| a.get_long().is_some() && !a.is_hide_set()) {
            let long = arg.get_long().unwrap();
            if matches!(long, "help" | "version") || !seen.insert(long.to_string()) {
                continue;
            }
            let heading = arg.get_help_heading().unwrap_or("Options").to_string();
            if !headings.contains(&heading) {
                headings.push(heading.clone());
            }
            let within: Vec<&str> = commands
                .iter()
                .zip(&subs)
                .filter(|(_, s)| s.get_arguments().any(|a| a.get_long() == Some(long) && !a.is_hide_set()))
                .map(|(name, _)| *name)
                .collect();
            let only = if commands.len() > 1 && within.len() < commands.len() {
                format!(" (`{}` only)", within.join("`, `"))
            } else {
                String::new()
            };
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
            let input = if inputs.contains(long) { code(long) } else { "—".to_string() };
            let (mut meaning, default) = meaning_and_default(arg);
            // A command that says more about the option (`run --dry-run`) has its own words.
            for (name, sub) in commands.iter().zip(&subs) {
                let Some(own) = sub.get_arguments().find(|a| a.get_long() == Some(long)) else { continue };
                let (own, _) = meaning_and_default(own);
                if own != meaning && !meaning.contains(&own) {
                    meaning = format!("{meaning}. `{name}`: {own}");
                }
            }
            let row = format!(
                "| `--{long}`{only} | {} | {input} | {} | {} |\n",
                code(&env),
                cell(&code(&default)),
                cell(&meaning)
            );
            rows.push((heading, row));
        }
    }
    for heading in headings {
        let _ = write!(
            out,
            "\n#### {heading}\n\n| flag | environment variable | action input | default | meaning |\n|---|---|---|---|---|\n"
        );
        for (_, row) in rows.iter().filter(|(h, _)| *h == heading) {
            out.push_str(row);
        }
    }
}

fn yaml_map<'a>(doc: &'a Yaml, key: &str) -> Vec<(String, &'a Yaml)> {
    match &doc[key] {
        Yaml::Hash(map) => map.iter().filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), v))).collect(),
        _ => Vec::new(),
    }
}

/// The generated part of docs/reference.md.
fn reference() -> String {
    let action = YamlLoader::load_from_str(&read(&root().join("action.yml"))).unwrap().remove(0);
    let inputs = yaml_map(&action, "inputs");
    let input_names: BTreeSet<String> = inputs.iter().map(|(k, _)| k.clone()).collect();
    let mut out = String::new();
    out.push_str("\n### `onfail send`, `onfail run`, `onfail check`\n");
    options_tables(&mut out, &["send", "run", "check"], &input_names);
    out.push_str("\n### `onfail serve`\n");
    options_tables(&mut out, &["serve"], &BTreeSet::new());

    let cli = onfail::cli::command();
    let send = cli.find_subcommand("send").unwrap();
    let flags: BTreeSet<&str> = send.get_arguments().filter_map(|a| a.get_long()).collect();
    out.push_str(
        "\n### Action inputs\n\nEvery flag of `onfail send` above is an input of the same name. These are the ",
    );
    out.push_str("inputs whose default differs from the flag's, and the action's own:\n\n");
    out.push_str("| input | default in the action | meaning |\n|---|---|---|\n");
    for (name, input) in &inputs {
        let default = input["default"].as_str().unwrap_or("");
        if flags.contains(name.as_str()) && default.is_empty() {
            continue;
        }
        let description = input["description"].as_str().unwrap_or("").replace('\n', " ");
        let _ = writeln!(out, "| `{name}` | {} | {} |", cell(&code(default)), cell(description.trim()));
    }
    out.push_str("\n### Action outputs\n\n| output | value |\n|---|---|\n");
    for (name, output) in yaml_map(&action, "outputs") {
        let description = output["description"].as_str().unwrap_or("").replace('\n', " ");
        let _ = writeln!(out, "| `{name}` | {} |", cell(description.trim()));
    }
    out.push('\n');
    out
}

#[test]
fn the_reference_is_generated_from_the_cli_and_action_yml() {
    let path = root().join("docs/reference.md");
    // A Windows checkout may have CRLF line ends; the page is compared as LF.
    let page = read(&path).replace("\r\n", "\n");
    let (before, rest) = page.split_once(BEGIN).expect("docs/reference.md has the BEGIN GENERATED marker");
    let (generated, after) = rest.split_once(END).expect("docs/reference.md has the END GENERATED marker");
    let fresh = reference();
    if generated == fresh {
        return;
    }
    if std::env::var_os("ONFAIL_BLESS").is_some() {
        fs::write(&path, format!("{before}{BEGIN}{fresh}{END}{after}")).unwrap();
        return;
    }
    panic!(
        "docs/reference.md is stale: an option or an action input changed. Regenerate it with\n  \
         ONFAIL_BLESS=1 cargo test --test it docs::the_reference_is_generated\nand commit the page."
    );
}

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn troubleshooting_names_every_option_a_configuration_error_names() {
    let page = read(&root().join("docs/troubleshooting.md"));
    let mut files = Vec::new();
    rust_sources(&root().join("src"), &mut files);
    let mut options = BTreeSet::new();
    for file in files {
        let text = read(&file);
        for (at, call) in text.match_indices("ConfigError::new(") {
            let rest = text[at + call.len()..].trim_start();
            if let Some(option) = rest.strip_prefix("\"--").and_then(|r| r.split_once('"')).map(|(o, _)| o) {
                options.insert(format!("--{option}"));
            }
        }
    }
    assert!(options.len() > 20, "only {} options found: {options:?}", options.len());
    let missing: Vec<&String> = options.iter().filter(|o| !page.contains(&format!("`{o}"))).collect();
    assert!(missing.is_empty(), "docs/troubleshooting.md does not say what to do about errors of {missing:?}");
}

#[test]
fn the_readme_stays_a_front_door() {
    let readme = read(&root().join("README.md"));
    let lines = readme.lines().count();
    assert!(lines <= 300, "README.md has {lines} lines; the manual is docs/ (CONTRIBUTING.md, \"Documentation\")");
    // It opens with the two commands that work on a fresh machine: a dry run, and the tests.
    let first = fenced_blocks(&readme).into_iter().next().expect("a first code block");
    assert!(first.body.contains("cargo run --quiet -- send --dry-run"), "{}", first.body);
    assert!(first.body.contains("cargo test --locked"), "{}", first.body);
}

/// Every `sh` example is shell syntax as pasted (`sh -n`: read, not run). The cron quick start
/// is also run, as cron runs it, by tests/docs/recipes.sh.
#[cfg(unix)]
#[test]
fn every_shell_example_is_shell_syntax() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut wrong = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        for block in fenced_blocks(&read(&root().join(&file))).into_iter().filter(|b| b.lang == "sh") {
            checked += 1;
            let mut sh = Command::new("sh").arg("-n").stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
            sh.stdin.take().unwrap().write_all(block.body.as_bytes()).unwrap();
            let out = sh.wait_with_output().unwrap();
            if !out.status.success() {
                wrong.push(format!("{file}:{}: {}", block.line, String::from_utf8_lossy(&out.stderr).trim()));
            }
        }
    }
    assert!(checked > 15, "only {checked} shell examples were found");
    assert!(wrong.is_empty(), "\n  {}", wrong.join("\n  "));
}
