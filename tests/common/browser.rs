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

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::http;
use super::system::{self, Need};

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
    /// chromedriver is missing.
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
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser {
            driver: child,
            addr,
            session: String::new(),
            _profile: profile,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver does not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
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
        let v = browser.call("POST", "/session", Some(caps));
        browser.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned();
        Some(browser)
    }

    /// One WebDriver command; its `value`, or a panic with the error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string());
        let r = http::request(self.addr, method, path, &[], body.as_deref());
        let v = r.json();
        assert!(
            r.status == 200,
            "WebDriver {method} {path}: {} {}",
            r.status,
            v["value"]
        );
        v["value"].clone()
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
