//! `cpnctl topology ...` as users run it: exit codes, messages, and refusal of
//! hostile input (truncated, binary, deeply nested, alias bombs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cpnctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(args)
        .output()
        .expect("cpnctl runs")
}

fn topology(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("topologies")
        .join(name)
        .display()
        .to_string()
}

fn write(dir: &tempfile::TempDir, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_accepts_the_bundled_networks() {
    for name in ["lab.yaml", "china-east-west.yaml"] {
        let out = cpnctl(&["topology", "check", &topology(name)]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains(": ok ("));
    }
}

#[test]
fn check_reports_every_problem_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let lab = std::fs::read_to_string(topology("lab.yaml")).unwrap();
    let broken = lab
        .replacen("    operator: op-b\n", "    operator: op-z\n", 1)
        .replacen("    igp: 20\n", "    igp: 0\n", 1);
    let path = write(&dir, "broken.yaml", broken.as_bytes());
    let out = cpnctl(&["topology", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let line_of = |needle: &str| broken.lines().position(|l| l == needle).unwrap() + 1;
    let op_line = line_of("    operator: op-z");
    let igp_line = line_of("    igp: 0");
    assert!(
        err.contains(&format!(
            "broken.yaml:{op_line}:5: router `b1` (routers[4].operator): unknown operator `op-z`"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("broken.yaml:{igp_line}:5: link `a4-b2`")),
        "{err}"
    );
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let out = cpnctl(&["topology", "check", "/nonexistent/net.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/nonexistent/net.yaml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn hostile_input_is_refused_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let lab = std::fs::read(topology("lab.yaml")).unwrap();

    // Cut at a line end near the middle: the file just stops.
    let cut = lab[..lab.len() / 2]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    let truncated = write(&dir, "truncated.yaml", &lab[..cut]);
    let binary: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let binary = write(&dir, "binary.yaml", &binary);
    let nested = write(
        &dir,
        "nested.yaml",
        format!("name: {}{}", "{a: ".repeat(50_000), "}".repeat(50_000)).as_bytes(),
    );
    let nested_block = (1..2000)
        .map(|i| format!("{}- \n", "  ".repeat(i)))
        .collect::<String>();
    let nested_block = write(
        &dir,
        "nested-block.yaml",
        format!("version: 1\nname:\n{nested_block}").as_bytes(),
    );
    // "Billion laughs": 9^9 strings if expanded, inside fields that exist.
    let mut bomb = String::from(
        "version: 1\nname: x\noperators:\n  - id: a\n    description: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..9 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        bomb.push_str(&format!("  - id: a{i}\n    description: &a{i} [{refs}]\n"));
    }
    bomb.push_str("routers: *a8\n");
    let bomb = write(&dir, "bomb.yaml", bomb.as_bytes());

    for (path, expected) in [
        (&truncated, "missing field"),
        (&binary, "not UTF-8"),
        (&nested, "nested deeper than 64"),
        (&nested_block, "invalid type"),
        (&bomb, "bomb.yaml:"),
    ] {
        let out = cpnctl(&["topology", "check", path.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            path.display(),
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(expected),
            "{}: {}",
            path.display(),
            stderr(&out)
        );
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
}

#[test]
fn show_summarizes_operators_pools_and_flags_memory_starved_cpu_pools() {
    let out = cpnctl(&["topology", "show", &topology("lab.yaml")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(
            "lab: 2 operators, 7 routers, 9 links (2 peering, 0 down), 3 data centers"
        ),
        "{text}"
    );
    // dc-west's general pool: 800 TFLOPS over 200,000 GB = 4 GFLOPS per GB.
    assert!(
        text.contains("warning: dc-west general pool: 4.00 GFLOPS per GB"),
        "{text}"
    );
    // dc-north's general pool is 100 TFLOPS over 120,000 GB: 0.83, within 2x of 1:1.
    assert!(!text.contains("warning: dc-north"), "{text}");
    assert!(text.contains("3,500 / 4,000"), "{text}");
}

#[test]
fn generate_writes_a_file_that_checks_and_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let args = [
        "topology",
        "generate",
        "--routers",
        "300",
        "--operators",
        "3",
        "--datacenters",
        "12",
        "--seed",
        "9",
    ];
    let out = cpnctl(&[&args[..], &["--output", a.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = cpnctl(&args);
    assert_eq!(
        std::fs::read(&a).unwrap(),
        stdout.stdout,
        "--output and stdout differ"
    );
    let check = cpnctl(&["topology", "check", a.to_str().unwrap()]);
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(String::from_utf8_lossy(&check.stdout).contains("300 routers"));
    assert!(String::from_utf8_lossy(&check.stdout).contains("12 data centers"));
}

#[test]
fn programs_answer_help_and_version() {
    for bin in [
        env!("CARGO_BIN_EXE_cpnctl"),
        env!("CARGO_BIN_EXE_cpnd"),
        env!("CARGO_BIN_EXE_cpn-router"),
    ] {
        for flag in ["--help", "--version"] {
            let out = Command::new(bin).arg(flag).output().unwrap();
            assert!(out.status.success(), "{bin} {flag}");
            assert!(!out.stdout.is_empty());
        }
    }
}

#[test]
fn json_summaries_for_scripts() {
    let out = cpnctl(&["topology", "check", &topology("lab.yaml"), "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            v["ok"].as_bool(),
            v["routers"].as_u64(),
            v["links"].as_u64()
        ),
        (Some(true), Some(7), Some(9))
    );
    let out = cpnctl(&["topology", "show", &topology("lab.yaml"), "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let a2 = v["routers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "a2")
        .unwrap();
    let sids: Vec<&str> = a2["sids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["behavior"].as_str().unwrap())
        .collect();
    // The data center's End.DT6 (0xd000), the router's own (0xe000), two End.X.
    assert_eq!(sids, ["End", "End.DT6", "End.DT6", "End.X", "End.X"]);
    let peer = v["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "a4-b1")
        .unwrap();
    assert_eq!(peer["peering"], true);
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = cpnctl(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("cpnctl") && text.contains("replay") && text.contains("policy"),
            "{shell}"
        );
    }
}
