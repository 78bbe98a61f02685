//! One version everywhere: the binary, `Cargo.toml`, `Cargo.lock`, the `uses:` pins of the README and docs/, the
//! release workflow's tag check and major tag, and the version `action/install.sh` downloads
//! (docs/getting-started.md, "Pinning" and "How the binary is fetched and verified").

use std::path::{Path, PathBuf};

use crate::common::onfail;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// (major, minor, patch) of a plain `X.Y.Z`.
fn parts(version: &str) -> (u64, u64, u64) {
    let numbers: Vec<u64> = version.split('.').map(|n| n.parse().expect("a number")).collect();
    assert_eq!(numbers.len(), 3, "{version} is not X.Y.Z");
    (numbers[0], numbers[1], numbers[2])
}

#[test]
fn the_version_is_a_public_release() {
    let (major, _, _) = parts(VERSION);
    assert!(major >= 1, "the first public release is 1.0.0, so `@v1` exists; Cargo.toml says {VERSION}");
}

#[test]
fn the_binary_reports_the_crate_version() {
    let output = onfail().arg("--version").output().expect("onfail runs");
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), format!("onfail {VERSION}\n"));
}

#[test]
fn cargo_lock_has_the_crate_version() {
    let lock = read("Cargo.lock");
    let entry = lock.split("[[package]]").find(|p| p.contains("\nname = \"onfail\"\n")).expect("onfail in Cargo.lock");
    assert!(entry.contains(&format!("\nversion = \"{VERSION}\"\n")), "Cargo.lock has {entry}");
}

#[test]
fn the_readme_and_the_manual_pin_this_major_version() {
    let (major, _, _) = parts(VERSION);
    let readme = read("README.md");
    assert!(readme.contains(&format!("onfail@v{major} ")), "no `onfail@v{major}` in the README");
    let pages: Vec<String> = crate::docs::markdown_files().iter().map(|f| read(f)).collect();
    let pins: Vec<&str> = pages.iter().flat_map(|p| p.lines()).filter(|l| l.contains("onfail@")).collect();
    for line in pins {
        // `@v1`, or a commit pin with the full version in its comment (`# v1.0.0`).
        for word in line.split(|c: char| c.is_whitespace() || c == '@' || c == '`' || c == '"') {
            let Some(rest) = word.strip_prefix('v') else { continue };
            let pin = rest.split(|c: char| !(c.is_ascii_digit() || c == '.')).next().unwrap_or("");
            if pin.is_empty() {
                continue;
            }
            assert!(
                pin == major.to_string() || pin == VERSION,
                "the docs pin v{pin}, not v{major} or v{VERSION}: {line}"
            );
        }
    }
}

/// The lines of the `run: |` block of the release workflow step named `step`.
fn release_step_script(step: &str) -> String {
    let workflow = read(".github/workflows/release.yml");
    let mut lines = workflow.lines().skip_while(|l| !l.trim_start().starts_with(&format!("- name: {step}")));
    assert!(lines.next().is_some(), "release.yml has no step {step:?}");
    let mut lines = lines.skip_while(|l| l.trim() != "run: |");
    let run = lines.next().expect("the step has a `run: |` block");
    let indent = run.len() - run.trim_start().len();
    lines
        .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
        .map(|l| l.get(indent + 2..).unwrap_or("").to_string() + "\n")
        .collect()
}

#[test]
fn the_release_workflow_triggers_on_full_version_tags() {
    let workflow = read(".github/workflows/release.yml");
    assert!(workflow.contains(r#"tags: ["v[0-9]+.[0-9]+.[0-9]+"]"#), "release.yml must run on vX.Y.Z tags");
}

#[cfg(unix)]
fn bash(script: &str, envs: &[(&str, &str)], dir: &Path) -> std::process::Output {
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c").arg(script).current_dir(dir).env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (name, value) in envs {
        cmd.env(name, value);
    }
    cmd.output().expect("bash runs")
}

#[cfg(unix)]
#[test]
fn the_release_workflow_accepts_exactly_this_version_tag() {
    let check = release_step_script("Check that the tag is Cargo.toml's version");
    let (major, minor, patch) = parts(VERSION);
    let ok = bash(&check, &[("TAG", &format!("v{VERSION}"))], &repo());
    assert!(ok.status.success(), "tag v{VERSION} refused: {}", String::from_utf8_lossy(&ok.stdout));
    for other in [format!("v{major}.{minor}.{}", patch + 1), format!("v{}.0.0", major + 1), VERSION.to_string()] {
        let refused = bash(&check, &[("TAG", &other)], &repo());
        assert!(!refused.status.success(), "tag {other} accepted for version {VERSION}");
    }
}

#[cfg(unix)]
#[test]
fn the_release_workflow_moves_the_major_tag_the_readme_pins() {
    let script = release_step_script("Move the major tag to this release");
    let major_line = script.lines().find(|l| l.trim_start().starts_with("major=")).expect("a major= line");
    let out = bash(&format!("{major_line}\nprintf %s \"$major\""), &[("TAG", &format!("v{VERSION}"))], &repo());
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("v{}", parts(VERSION).0));
}

/// install.sh reads the version from the action's own Cargo.toml: with an empty mirror it names
/// the release it looked for.
#[cfg(unix)]
#[test]
fn the_install_script_downloads_this_version() {
    let scratch = tempfile::tempdir().unwrap();
    let mirror = scratch.path().join("mirror");
    std::fs::create_dir(&mirror).unwrap();
    let out = bash(
        "bash action/install.sh",
        &[
            ("GITHUB_ACTION_PATH", repo().to_str().unwrap()),
            ("RUNNER_TEMP", scratch.path().to_str().unwrap()),
            ("RUNNER_OS", "Linux"),
            ("RUNNER_ARCH", "X64"),
            ("ONFAIL_INSTALL", "release"),
            ("ONFAIL_RELEASE_BASE_URL", &format!("file://{}", mirror.display())),
        ],
        &repo(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&format!("release v{VERSION} has no asset for x86_64-unknown-linux-musl")), "{stderr}");
}
