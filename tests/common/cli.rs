//! `cpnctl` as a child process against a running controller, and what a
//! successful call printed.

use std::process::{Command, Output};

/// `cpnctl --server SERVER ARGS...`, waited for.
pub fn cpnctl_on(server: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(["--server", server])
        .args(args)
        .output()
        .unwrap()
}

/// The JSON a successful call printed (its stderr when it failed).
pub fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
