//! `cpnctl path` as scripts use it: JSON shape, exit codes 0/1/2, batch mode
//! in order, standard input.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::system;

fn lab() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml").to_owned()
}

fn cpnctl(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn json_answer_has_the_spec_fields_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let req = write(
        &dir,
        "r.yaml",
        "from: a1\ncompute: {kind: ai, tflops: 200}\n",
    );
    let out = cpnctl(
        &["path", "--topology", &lab(), "--request", &req, "--json"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "headend",
        "datacenter",
        "pool",
        "endpoint",
        "path",
        "links",
        "segments",
        "metrics",
        "backup",
        "rejected",
    ];
    expected.sort();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    // serde_json's map is sorted; check the printed order too.
    let pos = |k: &str| text.find(&format!("\"{k}\"")).unwrap();
    assert!(
        pos("headend") < pos("datacenter")
            && pos("segments") < pos("metrics")
            && pos("backup") < pos("rejected")
    );
    assert_eq!(v["headend"], "a1");
    assert_eq!(v["datacenter"], "dc-central");
    assert_eq!(v["pool"], "ai");
    assert!(v["backup"].is_null());
    let metrics: Vec<&str> = v["metrics"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(metrics.len(), 7);
    for m in [
        "latency_us",
        "igp",
        "te",
        "jitter_us",
        "loss_ppm",
        "min_available_mbps",
        "price",
    ] {
        assert!(metrics.contains(&m), "{m}");
    }
    assert_eq!(v["metrics"]["price"], 240.0, "1.2 per TFLOPS-hour x 200");
    let last = v["segments"].as_array().unwrap().last().unwrap();
    assert_eq!(last["behavior"], "End.DT6");
    assert_eq!(last["datacenter"], "dc-central");
    assert!(last.get("link").is_none());
}

#[test]
fn nothing_feasible_exits_2_with_error_and_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let req = write(
        &dir,
        "r.yaml",
        "from: a1\ncompute: {kind: hpc, tflops: 1e9}\n",
    );
    let out = cpnctl(
        &["path", "--topology", &lab(), "--request", &req, "--json"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["error"].as_str().unwrap().starts_with("no feasible"));
    assert_eq!(v["rejected"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_input_exits_1_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for (text, needle) in [
        (
            "from: zz\ncompute: {kind: ai, tflops: 1}\n",
            "from: unknown router `zz`",
        ),
        (
            "from: a1\nto: dc-nowhere\n",
            "unknown data center or router `dc-nowhere`",
        ),
        (
            "from: a1\ncompute: {kind: ai, tflops: 1}\nspeed: fast\n",
            "unknown field `speed`",
        ),
        (
            "from: a1\ncompute: {kind: ai, tflops: 1}\nobjective: price\nto: b3\n",
            "compute needs a data center",
        ),
    ] {
        let req = write(&dir, "bad.yaml", text);
        let out = cpnctl(
            &["path", "--topology", &lab(), "--request", &req, "--json"],
            None,
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn batch_answers_every_line_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        r#"{"from": "a1", "compute": {"kind": "ai", "tflops": 10}}"#,
        r#"{"from": "b3", "to": "a1"}"#,
        r#"{"from": "a1", "compute": {"kind": "hpc", "tflops": 1e9}}"#,
        r#"{"from": "nobody", "to": "a1"}"#,
        r#"{"from": "a2", "compute": {"kind": "general", "tflops": 5}, "objective": "price"}"#,
    ];
    let batch = write(&dir, "b.jsonl", &(lines.join("\n") + "\n"));
    let out = cpnctl(
        &["path", "--topology", &lab(), "--requests", &batch, "--json"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a bad line makes the batch exit 1"
    );
    let answers: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 5);
    assert_eq!(answers[0]["headend"], "a1");
    assert_eq!(answers[1]["endpoint"], "a1");
    assert!(
        answers[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("no feasible")
    );
    assert!(
        answers[3]["error"]
            .as_str()
            .unwrap()
            .contains("line 4: from: unknown router `nobody`")
    );
    assert!(answers[3].get("rejected").is_none());
    assert_eq!(answers[4]["headend"], "a2");

    // Each batch answer equals the single-request answer.
    let single = write(&dir, "one.json", lines[4]);
    let one = cpnctl(
        &["path", "--topology", &lab(), "--request", &single, "--json"],
        None,
    );
    let one: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(one, answers[4]);
}

#[test]
fn standard_input_and_human_tables() {
    let out = cpnctl(
        &["path", "--topology", &lab(), "--request", "-"],
        Some("from: a1\ncompute: {kind: ai, tflops: 200}\n"),
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("primary: a1 -> dc-central (ai pool) via b1"),
        "{text}"
    );
    assert!(text.contains("a1 -> a3 -> a4 -> b1"), "{text}");
    assert!(text.contains("End.DT6"), "{text}");
    assert!(text.contains("dc-west"), "{text}");
    assert!(
        text.contains("segments  3 of msd 5 (96 bytes of H.Encaps overhead)"),
        "{text}"
    );
}

#[test]
fn bench_reports_engine_and_dijkstra() {
    let out = cpnctl(
        &["bench", "--topology", &lab(), "--queries", "50", "--json"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["queries"], 50);
    assert_eq!(v["routers"], 7);
    assert!(v["answered"].as_u64().unwrap() > 0);
    assert!(v["engine"]["median_us"].as_f64().unwrap() > 0.0);
    assert!(v["dijkstra"]["per_second"].as_f64().unwrap() > 0.0);
}

/// The DOT output is valid Graphviz: `dot` (Debian's graphviz, installed by
/// .ci/run) must render it.
#[test]
fn dot_output_renders_with_graphviz() {
    if !system::available_blocking("cli_path::dot_output_renders_with_graphviz", &[system::DOT]) {
        return;
    }
    let system::Need::Program { name, paths, .. } = system::DOT else {
        unreachable!("dot is a program")
    };
    let dot = system::program(name, paths).expect("checked above");
    let dir = tempfile::tempdir().unwrap();
    let req = write(
        &dir,
        "r.yaml",
        "from: a1\ncompute: {kind: ai, tflops: 200}\nprotection: link\n",
    );
    let out = cpnctl(
        &["path", "--topology", &lab(), "--request", &req, "--dot"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("graph \"lab\" {"), "{text}");
    // The primary's links are drawn bold blue, the backup's dashed orange.
    assert!(
        text.contains(
            "\"a1\" -- \"a3\" [label=\"800us\", tooltip=\"a1-a3\", color=\"#2b6cb0\", penwidth=3]"
        ),
        "{text}"
    );
    assert!(text.contains("style=dashed"), "{text}");
    assert!(text.contains("\"dc-central\" [shape=box3d"), "{text}");
    let mut render = Command::new(dot)
        .args(["-Tsvg"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the `dot` program (apt-get install graphviz) must be installed");
    render
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let svg = render.wait_with_output().unwrap();
    assert!(
        svg.status.success(),
        "dot refused it: {}",
        String::from_utf8_lossy(&svg.stderr)
    );
    let svg = String::from_utf8_lossy(&svg.stdout);
    assert!(
        // Graphviz writes "-" as "&#45;" in SVG text.
        svg.contains("<svg") && svg.contains("dc&#45;central"),
        "no picture"
    );
}

/// The picture marks each router holding a segment with its place and
/// behavior; a path pinned to a router ends with that router's own End.DT6.
#[test]
fn dot_marks_the_segments_ending_with_the_endpoints_end_dt6() {
    let dir = tempfile::tempdir().unwrap();
    let req = write(&dir, "r.yaml", "{from: b3, to: a1, objective: igp}\n");
    let out = cpnctl(
        &["path", "--topology", &lab(), "--request", &req, "--json"],
        None,
    );
    assert!(out.status.success());
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let segments = answer["segments"].as_array().unwrap();
    let last = segments.last().unwrap();
    assert_eq!(last["behavior"], "End.DT6");
    assert_eq!(last["router"], "a1");
    assert_eq!(last["sid"], "fc00:a:1:e000::", "a1's own End.DT6");
    assert!(last.get("datacenter").is_none_or(|d| d.is_null()));

    let out = cpnctl(
        &["path", "--topology", &lab(), "--request", &req, "--dot"],
        None,
    );
    let dot = String::from_utf8(out.stdout).unwrap();
    let n = segments.len();
    let a1 = dot
        .lines()
        .find(|l| l.trim_start().starts_with("\"a1\" ["))
        .unwrap();
    assert!(a1.contains(&format!("xlabel=\"{n} End.DT6\"")), "{a1}");
    for (k, s) in segments.iter().enumerate() {
        let router = s["router"].as_str().unwrap();
        let line = dot
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("\"{router}\" [")))
            .unwrap();
        let mark = format!("{} {}", k + 1, s["behavior"].as_str().unwrap());
        assert!(line.contains(&mark), "{line} lacks {mark}");
    }
}

#[test]
fn a_compressed_answer_shows_its_containers_in_json_table_and_dot() {
    let ladder = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/usid-ladder.yaml");
    let request = "{from: h, compute: {kind: ai, tflops: 10}}";
    let out = cpnctl(
        &["path", "--topology", ladder, "--request", "-", "--json"],
        Some(request),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["compression"], "next-csid");
    assert_eq!(
        v["containers"],
        serde_json::json!(["fd00:0:e002:e003:e003:f000::"])
    );
    let containers: Vec<u64> = v["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["container"].as_u64().unwrap())
        .collect();
    assert_eq!(containers, [0, 0, 0, 0]);
    // Off: neither field, not even null.
    let off = "{from: h, compute: {kind: ai, tflops: 10}, compression: none}";
    let out = cpnctl(
        &["path", "--topology", ladder, "--request", "-", "--json"],
        Some(off),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let primary = v.as_object().unwrap();
    assert!(!primary.contains_key("compression") && !primary.contains_key("containers"));
    assert!(v["segments"][0].get("container").is_none());

    let out = cpnctl(
        &["path", "--topology", ladder, "--request", "-"],
        Some(request),
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("4 in 1 container of msd 2, next-csid (40 bytes of H.Encaps.Red overhead, 112 uncompressed)"),
        "{table}"
    );
    assert!(
        table.contains("container 0  fd00:0:e002:e003:e003:f000::"),
        "{table}"
    );
    let out = cpnctl(
        &["path", "--topology", ladder, "--request", "-", "--dot"],
        Some(request),
    );
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(
        dot.contains("next-csid: c0 fd00:0:e002:e003:e003:f000::"),
        "{dot}"
    );
    assert!(dot.contains("1 End.X [c0]"), "{dot}");
}
