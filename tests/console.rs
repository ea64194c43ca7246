//! The web console (`cpnd --http-listen`) over plain HTTP: its page and
//! the JSON the CLI prints, its access rules (login, roles, scopes,
//! origins, the audit log), and its event stream (snapshot, resume after a
//! reconnect, topology notes, stopping with streams open). The page in a
//! real browser: `console_browser.rs`.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use common::console::{ADMIN, OP_B, TRAIN, VIEWER, get, install, link_down, server};
use common::http::{self, Events};
use common::server::lab;
use cpn::document::PolicyJson;
use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use serde_json::{Value, json};

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
    assert_eq!(again.status, 200, "the same request again: it stands");
    let other = call(
        addr,
        "POST",
        "/api/policies/train",
        vec![],
        Some("{from: a1, compute: {kind: ai, tflops: 1}}".into()),
    )
    .await;
    assert_eq!(other.status, 409, "another request under the name");
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
        ..Default::default()
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
