//! Every replay scenario under `topologies/scenarios/` must pass; a scenario
//! with wrong expectations must fail, saying what was expected and found.

use std::path::Path;
use std::process::Command;

#[test]
fn every_bundled_scenario_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 12, "only {} scenarios", files.len());
    let mut failed = Vec::new();
    for file in &files {
        let report =
            cpn::replay::run_file(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!report.steps.is_empty());
        if !report.passed {
            failed.push(cpn::replay::render(&report));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn a_wrong_expectation_fails_with_expected_and_found() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrong-expectation.yaml");
    let report = cpn::replay::run_file(&file).unwrap();
    assert!(!report.passed);
    let failures: Vec<(usize, &str, &str, &str)> = report
        .steps
        .iter()
        .flat_map(|s| {
            s.failures.iter().map(move |f| {
                (
                    s.step,
                    f.field.as_str(),
                    f.expected.as_str(),
                    f.found.as_str(),
                )
            })
        })
        .collect();
    assert_eq!(
        failures[0],
        (1, "path", "[a1, a2, a4, b1]", "[a1, a3, a4, b1]")
    );
    assert_eq!(failures[1].0, 2);
    assert_eq!(failures[1].1, "error");
    assert!(failures[1].3.starts_with("success"));
    assert_eq!(failures[2], (3, "state", "down", "up"));
    // The other expectations of step 1 held.
    assert_eq!(report.steps[0].failures.len(), 1);

    // cpnctl replay exits 1 and prints expected against found.
    let out = Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(["replay", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("path: expected [a1, a2, a4, b1], found [a1, a3, a4, b1]"),
        "{text}"
    );
    assert!(text.contains("3 of 3 steps failed"), "{text}");
    let json = Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(["replay", file.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["passed"], false);
    assert_eq!(v["steps"][0]["failures"][0]["field"], "path");
}

#[test]
fn a_passing_scenario_exits_0() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/scenarios/core-link-failure.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(["replay", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("all 9 steps passed"));
}

#[test]
fn broken_scenarios_are_refused_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/lab.yaml");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        format!("version: 1\nname: bad\ntopology: {}\nsteps:\n  - query: {{from: a1, to: b3}}\n  - remove: {{name: x}}\n    event: {{link_down: a1-a2}}\n", lab.display()),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(["replay", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml:6: step 2: a step has 2 actions"),
        "{err}"
    );

    std::fs::write(
        &bad,
        "version: 1\nname: bad\ntopology: nowhere.yaml\nsteps: []\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(["replay", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere.yaml"));

    std::fs::write(&bad, "version: 1\nname: bad\ntopology: x.yaml\nsteps:\n  - query: {from: a1}\n    expect: {colour: red}\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(["replay", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `colour`"));
}
