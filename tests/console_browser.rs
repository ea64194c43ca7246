//! The web console in a real headless Chromium, driven over WebDriver: it
//! loads with no console errors, shows every router, a policy installed
//! through gRPC appears, selecting it highlights exactly its links, a
//! link-down event moves the highlight, a viewer sees no install button and
//! an operator only its policies; on the national network, the map by
//! geography, search, primary and backup, and what-if.
//!
//! Needs Chromium and chromedriver (Debian `chromium`, `chromium-driver`):
//! without them each test prints one SKIPPED line, unless
//! `CPN_REQUIRE_SYSTEM_TESTS=1` (CI), which makes that a failure.
//! `CPN_WRITE_SCREENSHOT=1` writes `docs/console.png` from the national
//! network test.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::browser::Browser;
use common::console::{ADMIN, OP_B, TRAIN, VIEWER, get, install, link_down, server};
use common::server::lab;
use serde_json::json;

/// The ids of the links highlighted as `which` (primary or backup).
const HIGHLIGHTED: &str = "return [...document.querySelectorAll('#map [data-link].' + arguments[0])].map(e => e.dataset.link).sort();";

fn highlighted(b: &Browser, which: &str) -> Vec<String> {
    serde_json::from_value(b.js(HIGHLIGHTED, json!([which]))).unwrap()
}

/// A script: true when the primary highlight is exactly `want` (sorted).
fn highlight_is(want: &[String]) -> String {
    format!(
        "const want = {}; const got = [...document.querySelectorAll('#map [data-link].primary')].map(e => e.dataset.link).sort(); return JSON.stringify(got) === JSON.stringify(want);",
        json!(want)
    )
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// Fails on any error in the browser's console since the last call.
fn no_console_errors(b: &Browser) {
    let severe: Vec<_> = b
        .console_log()
        .into_iter()
        .filter(|(level, _)| level == "SEVERE")
        .collect();
    assert!(severe.is_empty(), "console errors: {severe:?}");
}

fn log_in(b: &Browser, token: &str) {
    b.wait_for(
        "the login form",
        Duration::from_secs(20),
        "return !document.getElementById('login').hidden",
    );
    b.type_into("#token", token);
    b.click("#login-form button[type=submit]");
    b.wait_for(
        "the policies from the event stream",
        Duration::from_secs(20),
        "return document.body.dataset.ready === 'true' && document.querySelectorAll('#map [data-router]').length > 0",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_browser_follows_a_policy_across_a_link_failure() {
    let Some(b) = Browser::start("the_console_in_a_browser_follows_a_policy_across_a_link_failure")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (s, addr) = server(lab(), Some(dir.path())).await;
    let url = format!("http://{addr}/");
    b.goto(&url);
    // The error collector sees errors (else "no console errors" proves
    // nothing): one made on purpose, then the page's own.
    b.js("console.error('probe-4711')", json!([]));
    let probe = b.console_log();
    assert!(
        probe
            .iter()
            .any(|(level, m)| level == "SEVERE" && m.contains("probe-4711")),
        "{probe:?}"
    );
    log_in(&b, ADMIN);

    // Every router of the lab, laid out by force (the lab has no coordinates).
    let routers: BTreeSet<String> = serde_json::from_value(b.js(
        "return [...document.querySelectorAll('#map [data-router]')].map(e => e.dataset.router);",
        json!([]),
    ))
    .unwrap();
    let lab_routers: BTreeSet<String> = lab().routers().map(|(_, r)| r.id.to_string()).collect();
    assert_eq!(routers, lab_routers);
    assert_eq!(
        b.js(
            "return document.getElementById('map').dataset.layout",
            json!([])
        ),
        "force"
    );
    assert_eq!(
        b.js("return !!document.getElementById('install')", json!([])),
        true
    );

    // Installed through gRPC: it appears in the list.
    let p = install(&s, Some(ADMIN), "train", TRAIN).await;
    assert!(p.links.len() >= 2, "{p:?}");
    b.wait_for(
        "the policy in the list",
        Duration::from_secs(10),
        "return document.querySelector('#policy-table tr[data-policy=\"train\"]')",
    );

    // Selected: exactly its links are highlighted, and its segments shown.
    b.click("#policy-table tr[data-policy=\"train\"]");
    let want = sorted(&p.links);
    b.wait_for(
        "the policy's links highlighted",
        Duration::from_secs(10),
        &highlight_is(&want),
    );
    assert_eq!(highlighted(&b, "primary"), want);
    assert_eq!(highlighted(&b, "backup"), Vec::<String>::new());
    let sids: Vec<String> = serde_json::from_value(b.js(
        "return [...document.querySelectorAll('#details table.segments td.sid')].map(e => e.textContent);",
        json!([]),
    ))
    .unwrap();
    let want_sids: Vec<String> = p.segments.iter().map(|s| s.sid.clone()).collect();
    assert_eq!(sids, want_sids);

    // A link of its path goes down (through gRPC, as `cpnctl event` does):
    // the highlight moves to the new path, without a reload.
    let cut = p.links[1].clone();
    let sent = std::time::Instant::now();
    let affected = link_down(&s, Some(ADMIN), &cut).await;
    assert_eq!(affected, ["train"]);
    let moved = get(&s, Some(ADMIN), "train").await;
    assert!(!moved.links.contains(&cut), "{moved:?}");
    let want = sorted(&moved.links);
    b.wait_for(
        "the highlight on the new path",
        Duration::from_secs(5),
        &highlight_is(&want),
    );
    // The issue asks for a second; it takes tens of milliseconds here.
    let took = sent.elapsed();
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("console: the highlight moved {took:?} after the link-down event was sent\n")
            .as_bytes(),
    );
    assert!(
        took < Duration::from_secs(1),
        "the highlight moved only after {took:?}"
    );
    assert_eq!(highlighted(&b, "primary"), want);
    b.wait_for(
        "the cut link drawn down",
        Duration::from_secs(5),
        &format!(
            "return document.querySelector('#map [data-link=\"{cut}\"]').classList.contains('down')"
        ),
    );
    assert_eq!(
        b.js("return document.body.dataset.topology !== '1'", json!([])),
        true,
        "the map was redrawn, not reloaded"
    );
    no_console_errors(&b);

    // A viewer: the same policies, no install button.
    b.click("#logout");
    log_in(&b, VIEWER);
    b.wait_for(
        "the policy in the viewer's list",
        Duration::from_secs(10),
        "return document.querySelector('#policy-table tr[data-policy=\"train\"]')",
    );
    assert_eq!(
        b.js(
            "return document.getElementById('install') === null",
            json!([])
        ),
        true
    );
    b.click("#policy-table tr[data-policy=\"train\"]");
    b.wait_for(
        "the viewer's details",
        Duration::from_secs(5),
        "return !document.getElementById('details').hidden",
    );
    assert_eq!(
        b.js(
            "return document.getElementById('remove') === null",
            json!([])
        ),
        true
    );
    no_console_errors(&b);

    // An operator of op-b: a1's policy is not its to see.
    b.click("#logout");
    log_in(&b, OP_B);
    assert_eq!(
        b.js(
            "return document.querySelectorAll('#policy-table tbody tr').length",
            json!([])
        ),
        0
    );
    assert_eq!(
        b.js("return !!document.getElementById('install')", json!([])),
        true
    );
    no_console_errors(&b);
    drop(b);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_browser_maps_the_national_network_and_answers_what_if() {
    let Some(b) =
        Browser::start("the_console_in_a_browser_maps_the_national_network_and_answers_what_if")
    else {
        return;
    };
    let root = env!("CARGO_MANIFEST_DIR");
    let t =
        cpn::topology_file::load_file(format!("{root}/topologies/china-east-west.yaml")).unwrap();
    let (routers, dcs) = (t.router_count(), t.datacenters().len());
    let (s, addr) = server(t, None).await;
    for (name, file) in [
        ("train-west", "train-west"),
        ("inference-east", "inference-east"),
        ("confidential-city", "confidential-city"),
    ] {
        let yaml =
            std::fs::read_to_string(format!("{root}/topologies/requests/{file}.yaml")).unwrap();
        install(&s, None, name, &yaml).await;
    }
    install(
        &s,
        None,
        "hpc-south",
        "{from: gz-ct, compute: {kind: hpc, tflops: 500}, protection: node}",
    )
    .await;
    b.goto(&format!("http://{addr}/"));
    b.wait_for(
        "the map and the policies",
        Duration::from_secs(20),
        "return document.body.dataset.ready === 'true' && document.querySelectorAll('#map [data-router]').length > 0 && document.querySelectorAll('#policy-table tbody tr').length === 4",
    );
    assert_eq!(
        b.js(
            "return document.getElementById('map').dataset.layout",
            json!([])
        ),
        "geo"
    );
    assert_eq!(
        b.js(
            "return document.querySelectorAll('#map [data-router]').length",
            json!([])
        ),
        routers
    );
    assert_eq!(
        b.js(
            "return document.querySelectorAll('#map [data-dc]').length",
            json!([])
        ),
        dcs
    );
    assert!(
        b.js(
            "return document.querySelectorAll('#map .link.peering').length",
            json!([])
        )
        .as_u64()
        .unwrap()
            > 0
    );

    // Search narrows the list.
    b.type_into("#search", "dc-qy");
    b.wait_for(
        "one row for dc-qy",
        Duration::from_secs(5),
        "return document.querySelectorAll('#policy-table tbody tr').length === 1",
    );
    b.js("const s = document.getElementById('search'); s.value = ''; s.dispatchEvent(new Event('input'));", json!([]));

    // What if: confidential data of Beijing. The answer stays in Beijing;
    // the other data centers are drawn rejected, each with its reason.
    b.js("document.getElementById('wi-from').value = 'bj-cm'; document.getElementById('wi-kind').value = 'general'; document.getElementById('wi-residency').value = 'city';", json!([]));
    b.click("#ask");
    b.wait_for(
        "the what-if answer",
        Duration::from_secs(10),
        "return document.querySelector('#whatif-result table.rejected')",
    );
    assert_eq!(
        b.js(
            "return document.querySelector('#map [data-dc].chosen')?.dataset.dc",
            json!([])
        ),
        "dc-bj"
    );
    let rejected = b.js(
        "return document.querySelectorAll('#whatif-result table.rejected tr[data-dc]').length",
        json!([]),
    );
    assert_eq!(rejected, dcs - 1);
    let marked = b.js(
        "return document.querySelectorAll('#map [data-dc].rejected').length",
        json!([]),
    );
    assert_eq!(marked, dcs - 1);

    // A protected policy: its primary and its backup, each exactly.
    let hpc = get(&s, None, "hpc-south").await;
    let backup = hpc.backup.clone().expect("node protection gives a backup");
    assert!(!backup.links.is_empty());
    b.click("#policy-table tr[data-policy=\"hpc-south\"]");
    b.wait_for(
        "hpc-south highlighted",
        Duration::from_secs(5),
        &highlight_is(&sorted(&hpc.links)),
    );
    assert_eq!(highlighted(&b, "backup"), sorted(&backup.links));
    assert_eq!(
        b.js(
            "return document.querySelector('#map [data-dc].chosen')?.dataset.dc",
            json!([])
        ),
        json!(hpc.datacenter)
    );
    no_console_errors(&b);
    if std::env::var("CPN_WRITE_SCREENSHOT").as_deref() == Ok("1") {
        std::fs::write(format!("{root}/docs/console.png"), b.screenshot()).unwrap();
    }
    drop(b);
    s.stop().await;
}
