//! The web console (`cpnd --http-listen`): its JSON and event stream over
//! plain HTTP, its access rules (login, roles, scopes, origins), and the
//! page itself in a real headless Chromium (WebDriver): it loads with no
//! console errors, shows every router, a policy installed through gRPC
//! appears, selecting it highlights exactly its links, a link-down event
//! moves the highlight, and a viewer sees no install button.
//!
//! The browser tests need Chromium and chromedriver (Debian `chromium`,
//! `chromium-driver`): without them they print one SKIPPED line, unless
//! `CPN_REQUIRE_SYSTEM_TESTS=1` (CI), which makes that a failure.
//! `CPN_WRITE_SCREENSHOT=1` writes `docs/console.png` from the national
//! network test.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::browser::Browser;
use common::http::{self, Events};
use common::server::{TestServer, lab, start_with};
use cpn::api::access::token_hash;
use cpn::daemon;
use cpn::document::{PolicyJson, parse_request};
use cpn::proto::convert;
use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use cpn::proto::v1::topology_service_client::TopologyServiceClient;
use cpn::store::MemoryStore;
use serde_json::{Value, json};
use tonic::Request;

const ADMIN: &str = "tok-admin";
const VIEWER: &str = "tok-viewer";
const OP_B: &str = "tok-op-b";

/// A request whose best placement from a1 crosses both operators.
const TRAIN: &str = "from: a1\ncompute: {kind: ai, tflops: 200}\n";

/// A server on `topology` with a console on port 0; with tokens (admin,
/// viewer, operator op-b) and an audit log in `dir` when `dir` is given.
async fn server(topology: cpn::model::Topology, dir: Option<&Path>) -> (TestServer, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = daemon::Config {
        console: Some(listener),
        ..daemon::Config::new(Some(topology), Box::new(MemoryStore::default()))
    };
    if let Some(dir) = dir {
        let access = dir.join("access.yaml");
        let line = |name: &str, token: &str, role: &str| {
            format!(
                "  - {{name: {name}, sha256: {}, role: '{role}'}}\n",
                token_hash(token)
            )
        };
        let yaml = format!(
            "tokens:\n{}{}{}",
            line("root", ADMIN, "admin"),
            line("noc", VIEWER, "viewer"),
            line("oss-b", OP_B, "operator:op-b")
        );
        std::fs::write(&access, yaml).unwrap();
        config.access_file = Some(access);
        config.audit_log = Some(dir.join("audit.jsonl"));
    }
    let s = start_with(config).await;
    let console = s.console.unwrap();
    (s, console)
}

/// A gRPC request with `token` (when given).
fn authed<T>(token: Option<&str>, message: T) -> Request<T> {
    let mut r = Request::new(message);
    if let Some(t) = token {
        r.metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    r
}

async fn install(s: &TestServer, token: Option<&str>, name: &str, yaml: &str) -> PolicyJson {
    let mut c = PolicyServiceClient::new(s.channel().await);
    let r = c
        .install_policy(authed(
            token,
            pb::InstallPolicyRequest {
                name: name.into(),
                request: Some(convert::request_to_pb(&parse_request(yaml).unwrap())),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    convert::policy_from_pb(&r.policy.unwrap()).unwrap()
}

async fn get(s: &TestServer, token: Option<&str>, name: &str) -> PolicyJson {
    let mut c = PolicyServiceClient::new(s.channel().await);
    let r = c
        .get_policy(authed(token, pb::GetPolicyRequest { name: name.into() }))
        .await
        .unwrap()
        .into_inner();
    convert::policy_from_pb(&r.policy.unwrap()).unwrap()
}

async fn link_down(s: &TestServer, token: Option<&str>, link: &str) -> Vec<String> {
    let mut c = TopologyServiceClient::new(s.channel().await);
    let event = cpn::document::parse_event(&format!("link_down: {link}")).unwrap();
    c.apply_event(authed(
        token,
        pb::ApplyEventRequest {
            event: Some(convert::event_to_pb(&event)),
        },
    ))
    .await
    .unwrap()
    .into_inner()
    .affected_policies
}

/// A blocking HTTP call off the runtime's threads.
async fn call(
    addr: SocketAddr,
    method: &'static str,
    path: &str,
    headers: Vec<(String, String)>,
    body: Option<String>,
) -> http::Reply {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let h: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        http::request(addr, method, &path, &h, body.as_deref())
    })
    .await
    .unwrap()
}

fn bearer(token: &str) -> Vec<(String, String)> {
    vec![("Authorization".into(), format!("Bearer {token}"))]
}

fn cookie(c: &str) -> Vec<(String, String)> {
    vec![("Cookie".into(), c.to_owned())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_serves_its_page_and_the_json_the_cli_prints() {
    let (s, addr) = server(lab(), None).await;
    let page = call(addr, "GET", "/", vec![], None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg id=\"map\""));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    for asset in cpn::console::assets::names() {
        let r = call(addr, "GET", &format!("/assets/{asset}"), vec![], None).await;
        assert_eq!(r.status, 200, "{asset}");
        assert!(!r.body.is_empty(), "{asset}");
    }
    assert_eq!(
        call(addr, "GET", "/favicon.ico", vec![], None).await.status,
        200
    );
    let r = call(addr, "GET", "/api/nothing", vec![], None).await;
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].as_str().unwrap().contains("/api/nothing"));

    // Open API: the page needs no login.
    let who = call(addr, "GET", "/api/session", vec![], None).await.json();
    assert_eq!(who["open"], true);
    assert_eq!(who["caller"]["role"], "admin");

    // The topology: the file document and the derived values.
    let t = call(addr, "GET", "/api/topology", vec![], None)
        .await
        .json();
    assert_eq!(t["topology"]["routers"].as_array().unwrap().len(), 7);
    assert_eq!(t["derived"]["links"]["a4-b1"]["peering"], true);

    // A path query: the answer the CLI prints; nothing feasible is an
    // answer too (with every data center's reason).
    let a = call(addr, "POST", "/api/path", vec![], Some(TRAIN.into())).await;
    assert_eq!(a.status, 200);
    let a = a.json();
    assert_eq!(a["headend"], "a1");
    assert!(a["segments"].as_array().unwrap().len() >= 2);
    let none = call(
        addr,
        "POST",
        "/api/path",
        vec![],
        Some(r#"{"from": "a1", "compute": {"kind": "ai", "tflops": 1e9}}"#.into()),
    )
    .await;
    assert_eq!(none.status, 200);
    let none = none.json();
    assert!(none["error"].is_string());
    assert_eq!(none["rejected"].as_array().unwrap().len(), 3);
    let bad = call(addr, "POST", "/api/path", vec![], Some("{from: zz}".into())).await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"].as_str().unwrap().contains("zz"));

    // Install, read, list, remove: the policy JSON of the CLI.
    let r = call(
        addr,
        "POST",
        "/api/policies/train",
        vec![],
        Some(TRAIN.into()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let p: PolicyJson = serde_json::from_str(&r.body).unwrap();
    assert_eq!(p.rejected.len(), 2, "the install's reply explains");
    // Stored policies keep their placement, not its explanation.
    let p = PolicyJson {
        rejected: vec![],
        ..p
    };
    assert_eq!(p, get(&s, None, "train").await);
    let again = call(
        addr,
        "POST",
        "/api/policies/train",
        vec![],
        Some(TRAIN.into()),
    )
    .await;
    assert_eq!(again.status, 409);
    let list = call(addr, "GET", "/api/policies", vec![], None)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let one = call(addr, "GET", "/api/policies/train", vec![], None).await;
    assert_eq!(serde_json::from_str::<PolicyJson>(&one.body).unwrap(), p);
    let gone = call(addr, "DELETE", "/api/policies/train", vec![], None).await;
    assert_eq!(gone.status, 200);
    assert_eq!(
        call(addr, "GET", "/api/policies/train", vec![], None)
            .await
            .status,
        404
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_asks_for_a_token_and_keeps_to_its_role_and_scope() {
    let dir = tempfile::tempdir().unwrap();
    let (s, addr) = server(lab(), Some(dir.path())).await;
    install(&s, Some(ADMIN), "train", TRAIN).await;

    let who = call(addr, "GET", "/api/session", vec![], None).await.json();
    assert_eq!(
        (who["open"].clone(), who["caller"].clone()),
        (json!(false), Value::Null)
    );
    assert_eq!(
        call(addr, "GET", "/api/topology", vec![], None)
            .await
            .status,
        401
    );
    assert_eq!(
        call(addr, "GET", "/api/events", vec![], None).await.status,
        401
    );
    let bad = call(
        addr,
        "POST",
        "/api/session",
        vec![],
        Some(r#"{"token": "nope"}"#.into()),
    )
    .await;
    assert_eq!(bad.status, 401);
    assert!(bad.header("set-cookie").is_none());

    // A viewer logs in: an HttpOnly, SameSite=Strict session cookie.
    let login = call(
        addr,
        "POST",
        "/api/session",
        vec![],
        Some(json!({"token": VIEWER}).to_string()),
    )
    .await;
    assert_eq!(login.status, 200);
    assert_eq!(login.json()["caller"]["may_change_policies"], false);
    let set = login.header("set-cookie").unwrap().to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let session = set.split(';').next().unwrap().to_owned();
    assert!(!session.contains(VIEWER), "the cookie is not the token");
    let who = call(addr, "GET", "/api/session", cookie(&session), None)
        .await
        .json();
    assert_eq!(who["caller"]["role"], "viewer");
    assert_eq!(
        call(addr, "GET", "/api/topology", cookie(&session), None)
            .await
            .status,
        200
    );
    let list = call(addr, "GET", "/api/policies", cookie(&session), None)
        .await
        .json();
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "a viewer sees every policy"
    );
    let r = call(
        addr,
        "POST",
        "/api/policies/v1",
        cookie(&session),
        Some(TRAIN.into()),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        call(
            addr,
            "DELETE",
            "/api/policies/train",
            cookie(&session),
            None
        )
        .await
        .status,
        403
    );

    // An operator sees and touches only its own policies (op-b's headends).
    let list = call(addr, "GET", "/api/policies", bearer(OP_B), None)
        .await
        .json();
    assert_eq!(list, json!([]));
    assert_eq!(
        call(addr, "GET", "/api/policies/train", bearer(OP_B), None)
            .await
            .status,
        403
    );
    let r = call(
        addr,
        "POST",
        "/api/policies/b",
        bearer(OP_B),
        Some(TRAIN.into()),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = call(
        addr,
        "POST",
        "/api/policies/b",
        bearer(OP_B),
        Some("from: b1\ncompute: {kind: ai, tflops: 10}\n".into()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Another origin may not change state, whoever it is.
    let mut h = bearer(ADMIN);
    h.push(("Origin".into(), "https://evil.example".into()));
    let r = call(addr, "DELETE", "/api/policies/train", h, None).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("origin"), "{}", r.body);

    // Logging out ends the session.
    let out = call(addr, "DELETE", "/api/session", cookie(&session), None).await;
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(
        call(addr, "GET", "/api/topology", cookie(&session), None)
            .await
            .status,
        401
    );

    // Changes through the console are audited as the API's are.
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let console_lines: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["method"].as_str().unwrap().starts_with("console:"))
        .collect();
    assert!(console_lines.iter().any(|v| {
        v["method"] == "console:InstallPolicy"
            && v["who"] == "noc"
            && v["result"]
                .as_str()
                .unwrap()
                .starts_with("PermissionDenied")
    }));
    assert!(
        console_lines
            .iter()
            .any(|v| v["method"] == "console:InstallPolicy"
                && v["who"] == "oss-b"
                && v["result"] == "ok")
    );
    s.stop().await;
}

/// Reads events from a stream on a thread, into a channel.
fn reader(mut events: Events) -> tokio::sync::mpsc::UnboundedReceiver<common::http::Event> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        while let Some(e) = events.next_event() {
            if tx.send(e).is_err() {
                return;
            }
        }
    });
    rx
}

async fn next(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<common::http::Event>,
) -> common::http::Event {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
        .expect("the stream is open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_starts_with_a_snapshot_and_resumes_after_a_reconnect() {
    let (s, addr) = server(lab(), None).await;
    install(&s, None, "first", TRAIN).await;
    let open = move |headers: Vec<(&'static str, String)>| async move {
        tokio::task::spawn_blocking(move || {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Events::open(addr, "/api/events", &h)
        })
        .await
        .unwrap()
    };

    let mut rx = reader(open(vec![]).await);
    let snap = next(&mut rx).await;
    assert_eq!(snap.event, "snapshot");
    let policies = snap.data["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0]["name"], "first");
    let start: u64 = snap.id.unwrap().parse().unwrap();
    assert_eq!(snap.data["sequence"], start);

    install(&s, None, "second", TRAIN).await;
    let ch = loop {
        let e = next(&mut rx).await;
        if e.event == "change" {
            break e;
        }
    };
    assert_eq!(ch.data["name"], "second");
    assert_eq!(ch.data["kind"], "installed");
    assert_eq!(ch.data["policy"]["state"], "up");
    let seen: u64 = ch.id.unwrap().parse().unwrap();
    assert!(seen > start);
    drop(rx);

    // Missed while away: a reconnect with Last-Event-ID gets them, in
    // order, and no snapshot.
    install(&s, None, "third", TRAIN).await;
    let mut c = PolicyServiceClient::new(s.channel().await);
    c.remove_policy(pb::RemovePolicyRequest {
        name: "first".into(),
    })
    .await
    .unwrap();
    let mut rx = reader(open(vec![("Last-Event-ID", seen.to_string())]).await);
    let mut missed = Vec::new();
    while missed.len() < 2 {
        let e = next(&mut rx).await;
        assert_ne!(e.event, "snapshot");
        if e.event == "change" && e.data["kind"] != "southbound" {
            missed.push((e.data["name"].clone(), e.data["kind"].clone()));
        }
    }
    assert_eq!(
        missed,
        [
            (json!("third"), json!("installed")),
            (json!("first"), json!("removed"))
        ]
    );

    // A topology change is announced (the page reads the topology again).
    link_down(&s, None, "a2-a4").await;
    loop {
        if next(&mut rx).await.event == "topology" {
            break;
        }
    }

    // A resume point this run never had: everything as it stands.
    let mut rx2 = reader(open(vec![("Last-Event-ID", "999999".into())]).await);
    let snap = next(&mut rx2).await;
    assert_eq!(snap.event, "snapshot");
    let names: BTreeSet<String> = snap.data["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["second".to_owned(), "third".to_owned()])
    );

    // Stopping with streams open: they end, and the server stops.
    tokio::time::timeout(Duration::from_secs(10), s.stop())
        .await
        .expect("the server stops with event streams open");
    drop(rx);
    drop(rx2);
}

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
    let affected = link_down(&s, Some(ADMIN), &cut).await;
    assert_eq!(affected, ["train"]);
    let moved = get(&s, Some(ADMIN), "train").await;
    assert!(!moved.links.contains(&cut), "{moved:?}");
    let want = sorted(&moved.links);
    let (_, took) = b.wait_for(
        "the highlight on the new path",
        Duration::from_secs(5),
        &highlight_is(&want),
    );
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("console: the highlight moved {took:?} after the link-down event\n").as_bytes(),
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
        b.js("return document.querySelector('#map [data-dc].chosen')?.dataset.dc", json!([])),
        json!(hpc.datacenter)
    );
    no_console_errors(&b);
    if std::env::var("CPN_WRITE_SCREENSHOT").as_deref() == Ok("1") {
        std::fs::write(format!("{root}/docs/console.png"), b.screenshot()).unwrap();
    }
    drop(b);
    s.stop().await;
}
