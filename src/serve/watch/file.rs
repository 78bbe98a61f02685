//! The cron lines of a workflow file (docs/serve-checks.md, "Watching a scheduled GitHub
//! workflow"): `on.schedule[].cron`, read with a YAML parser, as GitHub reads the file. Pure.

use yaml_rust2::parser::{Event, EventReceiver, Parser};

/// A YAML node, as far as a schedule needs it: the parser's events made into a tree (a mapping
/// is its keys and values in turn), rather than the crate's own document type, which the binary
/// would carry for this one use (docs/benchmarks.md, "Benchmarks": its size).
enum Node {
    Scalar(String),
    List(Vec<Node>),
    Map(Vec<Node>),
    /// An alias: never a cron line.
    Other,
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        let Node::Map(items) = self else { return None };
        items.chunks(2).find(|pair| matches!(&pair[0], Node::Scalar(k) if k == key)).and_then(|pair| pair.get(1))
    }
}

#[derive(Default)]
struct Tree {
    open: Vec<Node>,
    top: Option<Node>,
}

impl Tree {
    fn add(&mut self, node: Node) {
        match self.open.last_mut() {
            Some(Node::List(items) | Node::Map(items)) => items.push(node),
            _ => {
                if self.top.is_none() {
                    self.top = Some(node);
                }
            }
        }
    }
}

impl EventReceiver for Tree {
    fn on_event(&mut self, event: Event) {
        match event {
            Event::Scalar(text, ..) => self.add(Node::Scalar(text)),
            Event::Alias(_) => self.add(Node::Other),
            Event::SequenceStart(..) => self.open.push(Node::List(Vec::new())),
            Event::MappingStart(..) => self.open.push(Node::Map(Vec::new())),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(node) = self.open.pop() {
                    self.add(node);
                }
            }
            _ => {}
        }
    }
}

/// Every `cron` of `on.schedule`; an error says why none can be read.
pub fn crons(text: &str) -> Result<Vec<String>, String> {
    let mut tree = Tree::default();
    Parser::new_from_str(text)
        .load(&mut tree, false)
        .map_err(|e| format!("the workflow file is not valid YAML ({e})"))?;
    let top = match tree.top {
        Some(top @ Node::Map(_)) => top,
        _ => return Err("the workflow file is not a YAML mapping".into()),
    };
    // YAML 1.1 readers take a bare `on` for true; GitHub and this parser (YAML 1.2) do not.
    let Some(Node::List(entries)) = top.get("on").and_then(|on| on.get("schedule")) else {
        return Err("the workflow file has no on.schedule: give the watch a schedule".into());
    };
    let lines: Vec<String> = entries
        .iter()
        .filter_map(|entry| match entry.get("cron") {
            Some(Node::Scalar(line)) => Some(line.trim().to_string()),
            _ => None,
        })
        .collect();
    if lines.is_empty() {
        return Err("the workflow file's on.schedule has no cron line: give the watch a schedule".into());
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_cron_line() {
        let file = "name: Nightly\non:\n  schedule:\n    - cron: '0 3 * * *'\n    - cron: \"30 1 * * 1-5\"\n  \
                    workflow_dispatch:\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: [{run: 'true'}]\n";
        assert_eq!(crons(file).unwrap(), ["0 3 * * *", "30 1 * * 1-5"]);
        assert_eq!(crons("\"on\":\n  schedule:\n    - cron: '5 * * * *'\n").unwrap(), ["5 * * * *"]);
    }

    #[test]
    fn says_why_there_is_none() {
        assert!(crons("on: push\n").unwrap_err().contains("no on.schedule"));
        assert!(crons("on:\n  schedule: []\n").unwrap_err().contains("no cron line"));
        assert!(crons("on: [\n").unwrap_err().contains("not valid YAML"));
        assert!(crons("- a\n").unwrap_err().contains("not a YAML mapping"));
    }
}
