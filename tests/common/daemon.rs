//! Daemons (`cpnd`, `cpn-router`) as child processes with JSON logs: start on
//! port 0 and wait for the line that says where they listen; stop with
//! SIGTERM (checking the exit) or SIGKILL. Drop kills and reaps.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running daemon.
pub struct Daemon {
    child: Child,
    /// `host:port` it serves on.
    pub addr: String,
    logs: mpsc::Receiver<String>,
    /// Log lines read by [`Daemon::wait_for`] (up to the ready one at start).
    startup: Vec<serde_json::Value>,
}

/// Starts `bin` with `args` plus `--log-format json` and waits (at most 30 s)
/// for the log message `ready`, whose `addr` field says where it listens.
pub fn spawn(bin: &str, args: &[&str], ready: &str) -> Daemon {
    let mut daemon = start(bin, args);
    let v = daemon.wait_for(ready);
    daemon.addr = v["fields"]["addr"].as_str().unwrap().to_owned();
    daemon
}

/// A `cpn-router --mock` agent on a free loopback port.
pub fn mock_agent() -> Daemon {
    spawn(
        env!("CARGO_BIN_EXE_cpn-router"),
        &["--mock", "--listen", "127.0.0.1:0"],
        "serving the mock router agent",
    )
}

/// Starts `bin` with `args` plus `--log-format json` without waiting for
/// anything (see [`Daemon::wait_for`]).
pub fn start(bin: &str, args: &[&str]) -> Daemon {
    let child = Command::new(bin)
        .args(["--log-format", "json"])
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, logs) = mpsc::channel();
    // From here on, Drop kills and reaps the child whatever happens.
    let mut daemon = Daemon {
        child,
        addr: String::new(),
        logs,
        startup: Vec::new(),
    };
    let stderr = daemon.child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    daemon
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // A failed test must not leave a daemon behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    /// A plaintext gRPC channel to the daemon.
    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// A field of a log message written at start-up.
    pub fn logged(&self, message: &str, field: &str) -> Option<String> {
        self.startup
            .iter()
            .find(|v| v["fields"]["message"] == message)
            .and_then(|v| v["fields"][field].as_str().map(str::to_owned))
    }

    /// `GET path` from an HTTP/1.1 server at `addr`: the body.
    pub fn http_get(addr: &str, path: &str) -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        body.to_owned()
    }

    /// Waits (at most 30 s) for the log message `message` and returns its
    /// line; the lines before it are kept for [`Daemon::logged`].
    pub fn wait_for(&mut self, message: &str) -> serde_json::Value {
        loop {
            let line = self
                .logs
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("the log says `{message}` within 30 s"));
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            self.startup.push(v.clone());
            if v["fields"]["message"] == message {
                return v;
            }
        }
    }

    /// SIGTERM, then waits for a clean exit; returns the log lines not read
    /// yet, to the last one the daemon wrote.
    pub fn terminate(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exited with {status}");
        // The reader may not have passed on the last lines yet: read until
        // it ends at the closed pipe (bounded, should a descendant hold the
        // pipe open).
        let mut lines = Vec::new();
        while let Ok(line) = self.logs.recv_timeout(Duration::from_secs(10)) {
            lines.push(line);
        }
        lines
    }

    /// The log lines written since start-up (or the last call), unread.
    pub fn drain_logs(&self) -> Vec<String> {
        self.logs.try_iter().collect()
    }

    /// Sends a signal (`STOP`, `CONT`, ...) by name.
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args([&format!("-{name}"), &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    /// SIGKILL: gone at once, nothing saved.
    pub fn kill(self) {
        // Drop does it.
    }
}
