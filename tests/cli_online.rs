//! `cpnd` and `cpnctl --server` as processes, with the command lines of
//! shared/spec/cli.md: install, list, show, remove, events, the live topology,
//! exit codes, SIGTERM shutdown and a restart on the same data directory.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use common::cli::json;
use common::daemon::{self, Daemon};

fn lab() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml").to_owned()
}

/// Starts cpnd on a free port.
fn cpnd(args: &[&str]) -> Daemon {
    let mut all = vec!["--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    daemon::spawn(env!("CARGO_BIN_EXE_cpnd"), &all, "serving gRPC")
}

/// SIGTERM, a clean exit, and the last log line, which says where the state is.
fn terminate(d: Daemon, last: &str) {
    let lines = d.terminate();
    assert!(lines.last().is_some_and(|l| l.contains(last)), "{lines:?}");
}

fn cpnctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_spec_command_lines_work_against_a_running_cpnd() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let req = dir.path().join("r.yaml");
    std::fs::write(
        &req,
        "from: a1\ncompute: {kind: ai, tflops: 300}\nconstraints: {min_bandwidth_mbps: 30000}\n",
    )
    .unwrap();
    let ev = dir.path().join("e.yaml");
    std::fs::write(&ev, "{link_down: a4-b1}\n").unwrap();
    let (req, ev) = (req.to_str().unwrap(), ev.to_str().unwrap());

    let d = cpnd(&["--topology", &lab(), "--data-dir", data.to_str().unwrap()]);
    let s = format!("http://{}", d.addr);
    let s = s.as_str();

    // Online path answer equals the offline one.
    let online = json(&cpnctl(&[
        "--server",
        s,
        "path",
        "--request",
        req,
        "--json",
    ]));
    let offline = json(&cpnctl(&[
        "path",
        "--topology",
        &lab(),
        "--request",
        req,
        "--json",
    ]));
    assert_eq!(online, offline);

    // A watcher, as a process, sees the install.
    let mut watch = Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(["--server", s, "policy", "watch", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut watched = BufReader::new(watch.stdout.take().unwrap()).lines();
    let mut said = BufReader::new(watch.stderr.take().unwrap()).lines();
    let ready = said.next().unwrap().unwrap();
    assert!(ready.starts_with("watching"), "{ready}");

    let p = json(&cpnctl(&[
        "--server",
        s,
        "policy",
        "install",
        "job1",
        "--request",
        req,
        "--json",
    ]));
    assert_eq!(
        (p["name"].as_str(), p["state"].as_str()),
        (Some("job1"), Some("up"))
    );
    assert!(p["reason"].is_null());
    assert!(p["southbound"].is_string());
    assert_eq!(p["path"], serde_json::json!(["a1", "a3", "a4", "b1"]));
    let first: serde_json::Value = serde_json::from_str(&watched.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["kind"], "installed");
    assert_eq!(first["name"], "job1");
    assert_eq!(first["policy"]["path"], p["path"]);
    let _ = watch.kill();
    let _ = watch.wait();
    json(&cpnctl(&[
        "--server",
        s,
        "policy",
        "install",
        "job2",
        "--request",
        req,
        "--json",
    ]));
    let third = cpnctl(&[
        "--server",
        s,
        "policy",
        "install",
        "job3",
        "--request",
        req,
        "--json",
    ]);
    assert_eq!(third.status.code(), Some(2), "nothing feasible");
    assert!(String::from_utf8_lossy(&third.stderr).contains("no feasible"));

    // A watcher from the oldest change kept replays both installs first.
    let mut replay = Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(["--server", s, "policy", "watch", "--from-oldest", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut replayed = BufReader::new(replay.stdout.take().unwrap()).lines();
    let (mut installs, mut first_sequence) = (Vec::new(), None);
    while installs.len() < 2 {
        let c: serde_json::Value =
            serde_json::from_str(&replayed.next().unwrap().unwrap()).unwrap();
        first_sequence.get_or_insert(c["sequence"].as_u64());
        if c["kind"] == "installed" {
            installs.push(c["name"].as_str().unwrap().to_owned());
        }
    }
    let _ = replay.kill();
    let _ = replay.wait();
    assert_eq!(first_sequence, Some(Some(1)), "from the first change");
    assert_eq!(installs, ["job1", "job2"]);

    let list = json(&cpnctl(&["--server", s, "policy", "list", "--json"]));
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["job1", "job2"]);

    let out = cpnctl(&["--server", s, "event", "--file", ev]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let job2 = json(&cpnctl(&[
        "--server", s, "policy", "show", "job2", "--json",
    ]));
    assert_eq!(job2["state"], "down");
    assert!(job2["reason"].as_str().unwrap().contains("a4-b1 is down"));

    let live = json(&cpnctl(&["--server", s, "topology", "--json"]));
    let down = live["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["a"] == "a4" && l["b"] == "b1")
        .unwrap();
    assert_eq!(down["up"], false);

    let out = cpnctl(&["--server", s, "policy", "remove", "job1"]);
    assert!(out.status.success());
    let missing = cpnctl(&["--server", s, "policy", "show", "job1", "--json"]);
    assert_eq!(missing.status.code(), Some(2), "not found");
    assert_eq!(String::from_utf8_lossy(&missing.stderr).lines().count(), 1);
    // job1's bandwidth is free again: job2 came back by itself.
    let job2 = json(&cpnctl(&[
        "--server", s, "policy", "show", "job2", "--json",
    ]));
    assert_eq!(job2["state"], "up");
    terminate(d, "stopped; state is on disk");

    // Same data directory, no topology: job2 is back as it was.
    let d = cpnd(&["--data-dir", data.to_str().unwrap()]);
    let job2_again = json(&cpnctl(&[
        "--server",
        &format!("http://{}", d.addr),
        "policy",
        "show",
        "job2",
        "--json",
    ]));
    assert_eq!(job2_again["state"], "up");
    assert_eq!(job2_again["version"], job2["version"]);
    assert_eq!(job2_again["path"], job2["path"]);
    assert_eq!(job2_again["segments"], job2["segments"]);
    terminate(d, "stopped; state is on disk");
}

#[test]
fn an_unreachable_server_or_bad_input_exits_1_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("r.yaml");
    std::fs::write(&req, "from: a1\nto: b3\n").unwrap();
    let out = cpnctl(&["--server", "http://127.0.0.1:1", "policy", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach the controller at http://127.0.0.1:1"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    let d = cpnd(&["--topology", &lab()]);
    std::fs::write(&req, "from: nowhere\nto: b3\n").unwrap();
    let out = cpnctl(&[
        "--server",
        &format!("http://{}", d.addr),
        "policy",
        "install",
        "x",
        "--request",
        req.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown router `nowhere`"));
    let out = cpnctl(&["policy", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--server"));
    terminate(d, "stopped; the state was in memory only");
}

#[test]
fn cpnd_refuses_to_start_without_a_topology() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cpnd"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("give one with --topology FILE"));
}
