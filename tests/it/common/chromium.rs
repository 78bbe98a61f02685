//! Headless Chromium (Debian's `chromium` package), driven over the DevTools protocol on a pipe
//! (`--remote-debugging-pipe`: commands on descriptor 3, answers and events on descriptor 4,
//! each message JSON ending in a NUL byte). No websocket, no driver, no download: the test
//! opens a page, presses its button with the mouse and takes a screenshot as a person would.
//!
//! [`Browser::launch`] gives `None` (said loudly) when Chromium is not installed; under CI (`CI`
//! set) on Linux, where `.ci/run` and the workflow install it (`tests/chromium.sh`), a missing
//! browser fails the test instead.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

/// The flags that work here as root, without a display, touching no network of their own.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-pipe",
];

pub struct Browser {
    child: Child,
    commands: std::fs::File,
    messages: Receiver<Value>,
    /// Events that arrived while an answer was awaited.
    pending: Vec<Value>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

/// One tab, attached in "flat" mode: its commands carry its session id.
pub struct Tab {
    session: String,
}

/// `ONFAIL_TEST_CHROMIUM` when set (only it), else the first browser on the `PATH` that runs.
fn executable() -> Option<String> {
    let candidates = match std::env::var("ONFAIL_TEST_CHROMIUM").ok().filter(|v| !v.is_empty()) {
        Some(named) => vec![named],
        None => ["chromium", "chromium-browser", "google-chrome"].map(String::from).to_vec(),
    };
    candidates.into_iter().find(|name| {
        Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// A descriptor of `fd`'s file at 10 or above (so the child's `dup2` onto 3 and 4 cannot clash),
/// closed on exec.
#[allow(unsafe_code)]
fn high_fd(fd: &impl AsRawFd) -> OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: fcntl duplicates a descriptor this process owns; the new one is owned below.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
    assert!(new >= 10, "fcntl: {}", std::io::Error::last_os_error());
    unsafe { OwnedFd::from_raw_fd(new) }
}

impl Browser {
    #[allow(unsafe_code)]
    pub fn launch() -> Option<Browser> {
        let Some(executable) = executable() else {
            let message = "chromium is not installed: the browser tests did NOT run. Install it with \
                           `export ONFAIL_TEST_CHROMIUM=$(tests/chromium.sh)` (Debian's package)";
            assert!(std::env::var_os("CI").is_none() || !cfg!(target_os = "linux"), "{message}");
            let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {message}\n");
            return None;
        };
        let profile = tempfile::tempdir().unwrap();
        let (their_commands, our_commands) = std::io::pipe().unwrap();
        let (our_messages, their_messages) = std::io::pipe().unwrap();
        let (commands_in, messages_out) = (high_fd(&their_commands), high_fd(&their_messages));
        drop((their_commands, their_messages));
        let (commands_fd, messages_fd) = (commands_in.as_raw_fd(), messages_out.as_raw_fd());
        let mut cmd = Command::new(executable);
        cmd.args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: dup2 is async-signal-safe; it puts the pipe ends where Chromium looks for them
        // (and clears close-on-exec on the copies).
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(commands_fd, 3) < 0 || libc::dup2(messages_fd, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        drop((commands_in, messages_out));
        let (sender, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(our_messages);
            let mut message = Vec::new();
            while reader.read_until(0, &mut message).is_ok_and(|n| n > 0) {
                message.pop_if(|b| *b == 0);
                if let Ok(value) = serde_json::from_slice::<Value>(&message)
                    && sender.send(value).is_err()
                {
                    break;
                }
                message.clear();
            }
        });
        let commands = std::fs::File::from(OwnedFd::from(our_commands));
        Some(Browser { child, commands, messages, pending: Vec::new(), next_id: 0, _profile: profile })
    }

    fn receive(&mut self, until: Instant) -> Value {
        match self.messages.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => panic!("chromium did not answer within {WAIT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("chromium exited: {:?}", self.child.try_wait()),
        }
    }

    /// Sends a command (to a tab's session, or to the browser) and waits for its result.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = message.to_string().into_bytes();
        bytes.push(0);
        self.commands.write_all(&bytes).unwrap();
        let until = Instant::now() + WAIT;
        loop {
            let message = self.receive(until);
            if message["id"] == id {
                assert!(message.get("error").is_none(), "{method}: {message}");
                return message["result"].clone();
            }
            self.pending.push(message);
        }
    }

    /// Waits for the event `method` of `session` (one already received counts); gives its
    /// parameters.
    pub fn event(&mut self, session: &str, method: &str) -> Value {
        let matches = |m: &Value| m["method"] == method && m["sessionId"] == session;
        if let Some(at) = self.pending.iter().position(matches) {
            return self.pending.remove(at)["params"].clone();
        }
        let until = Instant::now() + WAIT;
        loop {
            let message = self.receive(until);
            if matches(&message) {
                return message["params"].clone();
            }
            self.pending.push(message);
        }
    }

    /// Every event `method` of `session` received so far, taken out.
    pub fn events(&mut self, session: &str, method: &str) -> Vec<Value> {
        let (taken, kept) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|m| m["method"] == method && m["sessionId"] == session);
        self.pending = kept;
        taken.into_iter().map(|m: Value| m["params"].clone()).collect()
    }

    /// A new tab with a viewport of `width` x `height` CSS pixels (a phone's when `mobile`).
    pub fn tab(&mut self, width: u32, height: u32, mobile: bool) -> Tab {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached =
            self.call(None, "Target.attachToTarget", json!({"targetId": target["targetId"], "flatten": true}));
        let session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Page.enable", "Network.enable", "Runtime.enable"] {
            self.call(Some(&session), domain, json!({}));
        }
        self.call(
            Some(&session),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
        Tab { session }
    }

    /// Sends `headers` with every request of the tab (the web page's HTTP Basic credentials).
    pub fn headers(&mut self, tab: &Tab, headers: Value) {
        self.call(Some(&tab.session), "Network.setExtraHTTPHeaders", json!({ "headers": headers }));
    }

    /// Opens `url` and waits until it has loaded.
    pub fn open(&mut self, tab: &Tab, url: &str) {
        self.events(&tab.session, "Page.loadEventFired");
        let navigated = self.call(Some(&tab.session), "Page.navigate", json!({ "url": url }));
        assert!(navigated.get("errorText").is_none(), "{url}: {navigated}");
        self.event(&tab.session, "Page.loadEventFired");
    }

    /// The value of a JavaScript expression, run by the test through DevTools (the page itself
    /// runs none).
    pub fn evaluate(&mut self, tab: &Tab, expression: &str) -> Value {
        let result =
            self.call(Some(&tab.session), "Runtime.evaluate", json!({"expression": expression, "returnByValue": true}));
        result["result"]["value"].clone()
    }

    /// The page's text as a person reads it.
    pub fn text(&mut self, tab: &Tab) -> String {
        self.evaluate(tab, "document.body.innerText").as_str().unwrap_or_default().to_string()
    }

    /// Presses the first element matching `selector` with the mouse (at its middle) and waits
    /// for the page that follows to load.
    pub fn press(&mut self, tab: &Tab, selector: &str) {
        let script = format!(
            "(() => {{ const r = document.querySelector({}).getBoundingClientRect(); \
             return [r.x + r.width / 2, r.y + r.height / 2]; }})()",
            json!(selector)
        );
        let point = self.evaluate(tab, &script);
        let (x, y) = (point[0].as_f64().unwrap(), point[1].as_f64().unwrap());
        self.events(&tab.session, "Page.loadEventFired");
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                Some(&tab.session),
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
        self.event(&tab.session, "Page.loadEventFired");
    }

    /// Every URL the tab requested since the last call.
    pub fn requested(&mut self, tab: &Tab) -> Vec<String> {
        let sent = self.events(&tab.session, "Network.requestWillBeSent");
        sent.iter().map(|e| e["request"]["url"].as_str().unwrap_or_default().to_string()).collect()
    }

    /// A PNG of the viewport.
    pub fn screenshot(&mut self, tab: &Tab) -> Vec<u8> {
        let shot = self.call(Some(&tab.session), "Page.captureScreenshot", json!({"format": "png"}));
        base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Browser.close ends Chromium's own helper processes too; kill is the fallback.
        let mut close = json!({"id": 0, "method": "Browser.close"}).to_string().into_bytes();
        close.push(0);
        let _ = self.commands.write_all(&close);
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The width and height in a PNG's header.
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() > 24 && png.starts_with(b"\x89PNG\r\n\x1a\n") && &png[12..16] == b"IHDR", "not a PNG");
    let number = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (number(16), number(20))
}
