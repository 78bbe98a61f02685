//! The layering, kept honest: reads `src/**/*.rs`, collects the `crate::X` references between
//! top-level modules, and fails on any import cycle and on references that go the wrong way
//! (providers reaching up to the command line, the delivery engine reaching up to providers).
//! The layers are the numbered list in `src/lib.rs`, the one place they are described.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Top-level module → the top-level modules it references, with one file that does, per edge.
type Graph = BTreeMap<String, BTreeMap<String, PathBuf>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `src/...`, as a message shows it.
fn shown(path: &Path) -> String {
    path.strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_or(path).display().to_string()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `src/channels/iletimerkezi/envelope.rs` → `channels`; `lib.rs` and `main.rs` are the root.
fn top_module(path: &Path) -> Option<String> {
    let relative = path.strip_prefix(src()).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The code of a file without its comment lines (doc links name modules without using them).
fn code(text: &str) -> String {
    text.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

fn ident(text: &str) -> String {
    text.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// Every top-level module named after `crate::`, including inside `use crate::{a, b::c}`.
fn referenced(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        // `onfail_crate::` or `$crate::` are not this crate's paths.
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut part = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(ident(&part));
                        part.clear();
                        continue;
                    }
                    _ => {}
                }
                part.push(c);
            }
            found.insert(ident(&part));
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|name| !name.is_empty());
    found
}

fn graph() -> (Graph, Vec<(PathBuf, BTreeSet<String>)>) {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut graph = Graph::new();
    let mut per_file = Vec::new();
    for path in files {
        let names = referenced(&code(&fs::read_to_string(&path).unwrap()));
        if let Some(module) = top_module(&path) {
            let edges = graph.entry(module.clone()).or_default();
            for name in names.iter().filter(|name| **name != module) {
                edges.entry(name.clone()).or_insert_with(|| path.clone());
            }
        }
        per_file.push((path, names));
    }
    (graph, per_file)
}

/// One cycle through the graph, as a path of modules, if there is any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &Graph, stack: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(start) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flat_map(|edges| edges.keys()) {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_reader_finds_plain_and_grouped_references() {
    let code =
        code("use crate::a::B;\n// crate::commented::X\nlet x = crate::b::f();\nuse crate::{c, d::E};\n$crate::m");
    let names: Vec<String> = referenced(&code).into_iter().collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    let cyclic: Graph = [("a", "b"), ("b", "c"), ("c", "a")]
        .iter()
        .map(|(from, to)| (from.to_string(), [(to.to_string(), PathBuf::new())].into()))
        .collect();
    assert_eq!(find_cycle(&cyclic).unwrap(), ["a", "b", "c", "a"]);
}

#[test]
fn the_top_level_modules_form_no_cycle() {
    let (graph, _) = graph();
    // Guards against a reader that silently finds nothing.
    assert!(graph.get("app").is_some_and(|edges| edges.contains_key("config")), "{graph:#?}");
    if let Some(cycle) = find_cycle(&graph) {
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|pair| format!("{} → {} (in {})", pair[0], pair[1], shown(&graph[&pair[0]][&pair[1]])))
            .collect();
        panic!("import cycle among top-level modules:\n  {}", steps.join("\n  "));
    }
}

/// The layers of `src/lib.rs`'s list, top first: `N. `a`, `b`: …` names the modules of layer N.
fn layers() -> Vec<Vec<String>> {
    let lib = fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut layers = Vec::new();
    for line in lib.lines().filter_map(|l| l.strip_prefix("//! ")) {
        let Some((number, rest)) = line.split_once(". ") else { continue };
        if number.parse::<usize>() != Ok(layers.len() + 1) {
            continue;
        }
        let names = rest.split_once(':').map_or("", |(names, _)| names);
        layers.push(names.split(',').map(|n| n.trim().trim_matches('`').to_string()).collect());
    }
    layers
}

#[test]
fn the_layer_list_names_every_top_level_module_once() {
    let layers = layers();
    assert!(layers.len() >= 10, "src/lib.rs: the layer list was not found: {layers:?}");
    let listed: Vec<&String> = layers.iter().flatten().collect();
    let (graph, per_file) = graph();
    let mut modules: BTreeSet<String> = graph.keys().cloned().collect();
    modules.extend(per_file.iter().filter_map(|(path, _)| top_module(path)));
    for module in &modules {
        let times = listed.iter().filter(|l| **l == module).count();
        assert_eq!(times, 1, "src/lib.rs: the layer list names `{module}` {times} times; name it once");
    }
    for name in listed {
        assert!(modules.contains(name), "src/lib.rs: the layer list names `{name}`, which is no module");
    }
}

#[test]
fn references_go_down_the_layers_only() {
    let layer_of: BTreeMap<String, usize> =
        layers().into_iter().enumerate().flat_map(|(at, names)| names.into_iter().map(move |n| (n, at))).collect();
    let (_, per_file) = graph();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (path, names) in &per_file {
        let Some(module) = top_module(path) else { continue };
        let Some(&own) = layer_of.get(&module) else { continue };
        for name in names.iter().filter(|n| **n != module) {
            checked += 1;
            match layer_of.get(name) {
                Some(&other) if other > own => {}
                Some(&other) => wrong.push(format!(
                    "{} (layer {}) uses crate::{name} (layer {}): a module uses only the layers below its own",
                    shown(path),
                    own + 1,
                    other + 1
                )),
                None => wrong.push(format!("{} uses crate::{name}, which src/lib.rs does not list", shown(path))),
            }
        }
    }
    assert!(checked > 50, "the reader found only {checked} references");
    assert!(wrong.is_empty(), "references against the layering (src/lib.rs):\n  {}", wrong.join("\n  "));
}

#[test]
fn the_layer_check_catches_an_upward_reference() {
    // The reader and the list agree on a known edge each way: app uses config (down), and a
    // reference from config to app would be up.
    let layer_of: BTreeMap<String, usize> =
        layers().into_iter().enumerate().flat_map(|(at, names)| names.into_iter().map(move |n| (n, at))).collect();
    assert!(layer_of["app"] < layer_of["config"] && layer_of["transport"] < layer_of["wire"], "{layer_of:?}");
    assert_eq!(referenced(&code("use crate::app::Exit;")).into_iter().collect::<Vec<_>>(), ["app"]);
}

/// The code of every file under `src/`, comments stripped, by its `src/...` path.
fn sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    files.iter().map(|path| (shown(path), code(&fs::read_to_string(path).unwrap()))).collect()
}

/// The files whose code contains `needle`, each with how often.
fn callers(sources: &[(String, String)], needle: &str) -> Vec<(String, usize)> {
    sources
        .iter()
        .map(|(path, code)| (path.clone(), code.matches(needle).count()))
        .filter(|(_, times)| *times > 0)
        .collect()
}

/// The body of `fn name(` in `code`, up to the next top-level item.
fn body<'a>(code: &'a str, name: &str) -> &'a str {
    let start = code.find(&format!("fn {name}(")).unwrap_or_else(|| panic!("fn {name} not found"));
    let rest = &code[start..];
    let end = rest.find("\n}\n").map_or(rest.len(), |at| at + 3);
    &rest[..end]
}

/// Issue 21: a send learns every fact first, then builds its configuration once, so no
/// channel is configured twice. Channels are configured only by `ChannelArgs::configure`
/// (voice and SMS included: the escalation gets the same ones), which only `Config::build`
/// calls; a send calls `Config::build` once, after `Facts::gather` and before the delivery.
#[test]
fn a_send_configures_every_channel_once() {
    let sources = sources();
    let one = |path: &str| vec![(path.to_string(), 1)];
    assert_eq!(callers(&sources, "channels.configure("), one("src/config.rs"), "ChannelArgs::configure's callers");
    assert_eq!(callers(&sources, "Escalation::configure("), one("src/config.rs"));
    assert!(callers(&sources, "phone_channels(").is_empty(), "voice and SMS are configured with the other channels");
    // Each phone provider's own `configure` is called by its `Provider` impl and by the list.
    for provider in ["alertalk", "iletimerkezi"] {
        assert_eq!(callers(&sources, &format!("{provider}::configure(")), one("src/channels/mod.rs"), "{provider}");
    }
    let config = &sources.iter().find(|(path, _)| path == "src/config.rs").unwrap().1;
    assert_eq!(body(config, "build").matches("configure(").count(), 2, "channels and escalation, once each");
    let app = &sources.iter().find(|(path, _)| path == "src/app.rs").unwrap().1;
    let send = body(app, "send");
    assert_eq!(send.matches("Config::build(").count(), 1, "{send}");
    let order = ["Facts::gather(", "Config::build(", "deliver::deliver(", "report("];
    let at: Vec<usize> = order.iter().map(|step| send.find(step).unwrap_or_else(|| panic!("{step}"))).collect();
    assert!(at.windows(2).all(|pair| pair[0] < pair[1]), "send runs {order:?} in this order:\n{send}");
    // Nothing built later is folded back into a configuration.
    assert!(callers(&sources, "config.channels =").is_empty() && callers(&sources, "*config =").is_empty());
}

/// Issue 21: one way to make an HTTP client (the channels' and the GitHub API's share the
/// proxy and trust rules) and one test of "on GitHub Actions".
#[test]
fn one_http_client_maker_and_one_github_actions_check() {
    let sources = sources();
    assert_eq!(callers(&sources, "Client::builder("), vec![("src/transport.rs".to_string(), 1)]);
    assert!(callers(&sources, "get(\"GITHUB_ACTIONS\")").is_empty(), "context::on_github_actions reads it");
    assert_eq!(callers(&sources, "\"GITHUB_ACTIONS\")"), vec![("src/context.rs".to_string(), 1)]);
}

#[test]
fn each_listed_provider_is_one_file_with_the_interface() {
    let list = fs::read_to_string(src().join("channels/mod.rs")).unwrap();
    let (_, invocation) = list.rsplit_once("providers! {").expect("the providers! list in src/channels/mod.rs");
    let names: Vec<&str> =
        invocation.split('}').next().unwrap().split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
    assert!(names.len() >= 4, "{names:?}");
    for name in names {
        let path = src().join("channels").join(format!("{name}.rs"));
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", shown(&path)));
        // clap names every flattened `Args` group "Args"; the module name keeps them apart.
        assert!(text.contains(&format!("#[group(id = \"{name}\")]")), "{}: group id must be {name:?}", shown(&path));
        assert!(text.contains("impl Provider for Args"), "{}: implements Provider", shown(&path));
    }
}

/// The `## ` and `### ` headings of a Markdown file in the repository.
fn headings(path: &str) -> Vec<String> {
    let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    text.lines().filter_map(|l| l.strip_prefix("## ").or_else(|| l.strip_prefix("### "))).map(str::to_string).collect()
}

/// The documents a comment line cites with a section, and the section: `README, "Section"`,
/// `docs/page.md, "Section"` (also written `` `docs/page.md`, "Section" ``). A citation that
/// runs on to the next line is left out (its section cannot be read whole).
fn citations(line: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut starts: Vec<(usize, String)> =
        line.match_indices("README, \"").map(|(at, m)| (at + m.len(), "README.md".to_string())).collect();
    for (at, _) in line.match_indices("docs/") {
        let rest = &line[at..];
        let Some(end) = rest.find(".md") else { continue };
        let name = &rest[..end + 3];
        if !name["docs/".len()..name.len() - 3].chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            continue;
        }
        let after = rest[end + 3..].strip_prefix('`').unwrap_or(&rest[end + 3..]);
        if let Some(section) = after.strip_prefix(", \"") {
            starts.push((line.len() - section.len(), name.to_string()));
        }
    }
    for (at, doc) in starts {
        if let Some((section, _)) = line[at..].split_once('"') {
            found.push((doc, section.to_string()));
        }
    }
    found
}

#[test]
fn comments_cite_documents_of_this_repository() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"), &mut files);
    let mut wrong = Vec::new();
    let mut cited = BTreeSet::new();
    let mut count = 0;
    for path in files.iter().filter(|p| !p.ends_with("structure.rs")) {
        let text = fs::read_to_string(path).unwrap();
        for line in text.lines().filter(|l| l.trim_start().starts_with("//")) {
            // The product contract and the research notes live outside the repository.
            if line.contains("SPEC §") || line.replace("docs/providers.md", "").contains("providers.md") {
                wrong.push(format!("{}: cites a document outside the repository: {}", shown(path), line.trim()));
            }
            for (doc, section) in citations(line) {
                count += 1;
                cited.insert(doc.clone());
                let exists = Path::new(env!("CARGO_MANIFEST_DIR")).join(&doc).exists();
                if !exists {
                    wrong.push(format!("{}: cites {doc}, which does not exist", shown(path)));
                } else if !headings(&doc).contains(&section) {
                    // A section that moved (the README's, into docs/): say where it is now.
                    let now = crate::docs::markdown_files().into_iter().find(|page| headings(page).contains(&section));
                    let hint =
                        now.map(|page| format!("; {page} has it: cite `{page}, \"{section}\"`")).unwrap_or_default();
                    wrong.push(format!("{}: {doc} has no section {section:?}{hint}", shown(path)));
                }
            }
        }
    }
    assert!(count > 10, "the reader found only {count} citations");
    assert!(cited.len() > 5, "the reader found citations of {cited:?} only");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_manual_names_each_channel_and_what_enables_it() {
    // docs/getting-started.md, "What it does".
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/getting-started.md")).unwrap();
    for (channel, option) in onfail::channels::CHANNELS {
        let row = readme.lines().find(|l| l.starts_with(&format!("| `{channel}` |")));
        assert!(
            row.is_some_and(|r| r.ends_with(&format!("| `{option}` |"))),
            "docs/getting-started.md, \"What it does\": table row for {channel}: {row:?}"
        );
    }
}
