//! Headless Chromium driven over WebDriver (chromedriver), with the tiny
//! HTTP client of `http.rs`: start a session, open pages, run scripts,
//! click, type, read the browser's console log, take screenshots.
//!
//! Why WebDriver by hand: chromedriver (Debian `chromium-driver`) speaks
//! plain HTTP+JSON, so a hundred lines do what a test needs, and nothing is
//! added to the build (`fantoccini` or `chromiumoxide` would compile a few
//! hundred crates' worth on a 2-core machine).
//!
//! Tests that need a browser call [`Browser::start`], which skips the test
//! (one line on the terminal, `system.rs`) when Chromium or chromedriver is
//! missing, unless `CPN_REQUIRE_SYSTEM_TESTS=1` (CI), which makes it a
//! failure. `CPN_TEST_HIDE=chromedriver` shows what such a machine sees.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::http;
use super::system::{self, Need};
use super::wait;

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium session; closed (and chromedriver stopped) on drop.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A new browser, or `None` (the test is skipped) when Chromium or
    /// chromedriver is missing. A start that fails (chromedriver or
    /// Chromium dying on a loaded machine) is tried again, twice, and then
    /// panics with every attempt's error and the end of chromedriver's log.
    pub fn start(test: &str) -> Option<Browser> {
        if !system::available_blocking(test, &[system::CHROMIUM, system::CHROMEDRIVER]) {
            return None;
        }
        let path = |need| match need {
            Need::Program { name, paths, .. } => {
                system::program(name, paths).expect("checked available")
            }
            _ => unreachable!("programs only"),
        };
        let (chromium, driver) = (path(system::CHROMIUM), path(system::CHROMEDRIVER));
        let mut failures = Vec::new();
        for attempt in 1..=3 {
            match Browser::launch(&chromium, &driver) {
                Ok(browser) => return Some(browser),
                Err(e) => {
                    eprintln!("{test}: browser start, attempt {attempt}: {e}");
                    failures.push(e);
                }
            }
        }
        panic!(
            "{test}: no browser session after 3 attempts:\n{}",
            failures.join("\n")
        );
    }

    /// Starts chromedriver on a port of its own choosing (`--port=0`, read
    /// back from its banner, so no other process can take the port in
    /// between), waits until it is ready, and opens a session.
    fn launch(chromium: &Path, driver: &Path) -> Result<Browser, String> {
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log = profile.path().join("chromedriver.log");
        let mut child = Command::new(driver)
            .arg("--port=0")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", driver.display()))?;
        let banner = child.stdout.take().expect("piped");
        let mut browser = Browser {
            driver: child,
            addr: ([127, 0, 0, 1], 0).into(),
            session: String::new(),
            _profile: profile,
        };
        let with_log = |e: String| format!("{e}; chromedriver's log ends:\n{}", log_tail(&log));
        let port = driver_port(banner).map_err(with_log)?;
        browser.addr = ([127, 0, 0, 1], port).into();
        browser.wait_ready().map_err(with_log)?;
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1600,1000",
            &format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let v = browser
            .try_call("POST", "/session", Some(caps))
            .map_err(with_log)?;
        browser.session = v["sessionId"]
            .as_str()
            .ok_or_else(|| with_log(format!("no session: {v}")))?
            .to_owned();
        Ok(browser)
    }

    /// Waits (20 s at most) until chromedriver's `/status` says it is ready.
    fn wait_ready(&mut self) -> Result<(), String> {
        let addr = self.addr;
        wait::try_eventually_blocking(
            "chromedriver says it is ready",
            Duration::from_secs(20),
            || {
                if let Ok(Some(status)) = self.driver.try_wait() {
                    return Err(format!("chromedriver ended ({status})"));
                }
                match http::try_request(addr, "GET", "/status", &[], None) {
                    Ok(r) if r.status == 200 && r.json()["value"]["ready"] == true => Ok(()),
                    reply => Err(format!("{reply:?}")),
                }
            },
        )
    }

    /// One WebDriver command; its `value`, or a panic with the error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// One WebDriver command; its `value`, or the error.
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body.map(|b| b.to_string());
        let r = http::try_request(self.addr, method, path, &[], body.as_deref())
            .map_err(|e| format!("WebDriver {method} {path}: {e}"))?;
        let v = r.json();
        if r.status != 200 {
            return Err(format!(
                "WebDriver {method} {path}: {} {}",
                r.status, v["value"]
            ));
        }
        Ok(v["value"].clone())
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        self.call(
            "POST",
            &self.session_path("/url"),
            Some(json!({"url": url})),
        );
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page.
    pub fn js(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            &self.session_path("/execute/sync"),
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Polls `script` until it returns something other than null, false,
    /// an empty string or an empty array, for at most `within`; panics
    /// with `what` and the last value otherwise.
    pub fn wait_for(&self, what: &str, within: Duration, script: &str) -> (Value, Duration) {
        let start = Instant::now();
        loop {
            let v = self.js(script, json!([]));
            let truthy = match &v {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => true,
            };
            if truthy {
                return (v, start.elapsed());
            }
            assert!(
                start.elapsed() < within,
                "waited {within:?} for {what}; last seen: {v}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The element matching CSS `selector`.
    fn element(&self, selector: &str) -> String {
        let v = self.call(
            "POST",
            &self.session_path("/element"),
            Some(json!({"using": "css selector", "value": selector})),
        );
        v[ELEMENT].as_str().unwrap().to_owned()
    }

    /// Clicks the element matching `selector`, as a user would.
    pub fn click(&self, selector: &str) {
        let e = self.element(selector);
        self.call(
            "POST",
            &self.session_path(&format!("/element/{e}/click")),
            Some(json!({})),
        );
    }

    /// Types `text` into the element matching `selector`.
    pub fn type_into(&self, selector: &str, text: &str) {
        let e = self.element(selector);
        self.call(
            "POST",
            &self.session_path(&format!("/element/{e}/value")),
            Some(json!({"text": text})),
        );
    }

    /// The browser console's entries since the last call (level, message).
    pub fn console_log(&self) -> Vec<(String, String)> {
        let v = self.call(
            "POST",
            &self.session_path("/se/log"),
            Some(json!({"type": "browser"})),
        );
        v.as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["level"].as_str().unwrap_or("").to_owned(),
                    e["message"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    /// A screenshot of the window, PNG.
    pub fn screenshot(&self) -> Vec<u8> {
        let v = self.call("GET", &self.session_path("/screenshot"), None);
        base64_decode(v.as_str().unwrap())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            // Chromium goes with its session.
            let _ = std::panic::catch_unwind(|| {
                http::request(self.addr, "DELETE", &self.session_path(""), &[], None)
            });
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The port chromedriver announces on its standard output ("... started
/// successfully on port N."), read for 20 s at most; the rest of its output
/// is drained so that it never blocks on a full pipe.
fn driver_port(banner: ChildStdout) -> Result<u16, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(banner).lines().map_while(Result::ok) {
            let port = line
                .split_once("started successfully on port ")
                .and_then(|(_, rest)| rest.trim_end_matches('.').trim().parse::<u16>().ok());
            if let Some(port) = port
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(port);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(20))
        .map_err(|_| "chromedriver announced no port within 20 s".to_owned())
}

/// The last lines of chromedriver's log, for an error message.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| format!("({e})"));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// Standard base64 (screenshots).
fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c) << (18 - 6 * i);
        }
        let k = chunk.len() - 1;
        out.extend_from_slice(&n.to_be_bytes()[1..1 + k]);
    }
    out
}
