//! Runs one test of this test binary again under a kernel that has SRv6,
//! when the machine's own kernel lacks it.
//!
//! Some kernels (cloud and micro-VM ones) are built without
//! `CONFIG_IPV6_SEG6_LWTUNNEL` or without the NEXT-C-SID flavor. With
//! `CPN_VMLAB` naming the `run.sh` of a vmlab (a QEMU runner that boots a
//! Debian kernel on the host's own filesystem and runs one command as root
//! there; `.ci/run` sets it up and exports it), a test that needs such a
//! kernel is not skipped: the test binary runs that one test inside the VM
//! (with `CPN_REQUIRE_SYSTEM_TESTS=1`, so it cannot skip there either) and
//! fails here when it failed there. Inside the VM, vmlab sets `VMLAB=1`,
//! which stops the recursion.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

/// The path of vmlab's `run.sh`.
pub const VMLAB_ENV: &str = "CPN_VMLAB";

/// How long one test may take in the VM, boot included (software
/// emulation is several times slower than the host).
const TIMEOUT_S: u32 = 1500;

/// The runner, when one is configured and this process is not already
/// inside its VM.
pub fn runner() -> Option<PathBuf> {
    if std::env::var_os("VMLAB").is_some() {
        return None;
    }
    let path = PathBuf::from(std::env::var_os(VMLAB_ENV)?);
    path.is_file().then_some(path)
}

/// Runs the test named `name` (its exact name in this binary) in the VM
/// and panics, with the end of its output, unless it ran and passed there.
pub async fn run_test(runner: &std::path::Path, name: &str) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let started = std::time::Instant::now();
    let mut command = std::process::Command::new(runner);
    command
        .arg("--timeout")
        .arg(TIMEOUT_S.to_string())
        .arg("--")
        .arg(&exe)
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(super::system::REQUIRE_ENV, "1")
        .stdin(Stdio::null());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the VM's runner was waited for")
        .unwrap_or_else(|e| panic!("cannot start vmlab: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let ran = stdout.contains("test result: ok. 1 passed");
    assert!(
        output.status.success() && ran,
        "{name} under {} ({}): {}\n--- stdout (end)\n{}\n--- stderr (end)\n{}",
        runner.display(),
        if ran { "passed" } else { "did not pass" },
        output.status,
        tail(&stdout),
        tail(&stderr),
    );
    let line = format!(
        "RAN IN VM {name}: passed under vmlab's kernel in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    // Straight to the terminal: the test harness captures eprintln!.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The last lines of `text`, enough to see why.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}
