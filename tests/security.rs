//! Who may do what, over what: TLS and mutual TLS handshakes with
//! certificates made here (northbound and southbound), every role and
//! denial of the access file (an operator never touches another's
//! policies), the audit log, and the limits (call rate, message size,
//! alias bombs, call deadline), each with a clear error.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::certs;
use common::daemon::{self, Daemon};
use common::wait::eventually;
use cpn::api::access::token_hash;
use cpn::document::parse_request;
use cpn::proto::convert;
use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use cpn::proto::v1::topology_service_client::TopologyServiceClient;
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic::{Code, Request};

fn lab() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml").to_owned()
}

fn cpnd(args: &[&str]) -> Daemon {
    let mut all = vec!["--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    daemon::spawn(env!("CARGO_BIN_EXE_cpnd"), &all, "serving gRPC")
}

fn cpnctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cpnctl"))
        .env_remove("CPN_TOKEN")
        .env_remove("CPN_SERVER")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn tls_and_mutual_tls_handshakes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = certs::ca(d, "cpn-ca");
    let other = certs::ca(d, "other-ca");
    let (cert, key) = ca.issue(d, "cpnd", &["127.0.0.1", "localhost"]);
    let (client, client_key) = ca.issue(d, "oss", &[]);
    let (rogue, rogue_key) = other.issue(d, "rogue", &[]);
    let r = d.join("r.yaml");
    std::fs::write(&r, "{from: a1, compute: {kind: general, tflops: 1}}").unwrap();

    // TLS: the right CA connects; none, or another, does not.
    let server = cpnd(&[
        "--topology",
        &lab(),
        "--tls-cert",
        p(&cert),
        "--tls-key",
        p(&key),
    ]);
    assert_eq!(
        server.logged("serving gRPC", "transport").as_deref(),
        Some("TLS")
    );
    let url = format!("https://{}", server.addr);
    let ok = cpnctl(&[
        "--server",
        &url,
        "--ca",
        p(&ca.pem),
        "path",
        "--request",
        p(&r),
        "--json",
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let none = cpnctl(&["--server", &url, "path", "--request", p(&r)]);
    assert_eq!(none.status.code(), Some(1));
    assert!(
        stderr(&none).contains("https needs the controller's CA"),
        "{}",
        stderr(&none)
    );
    let wrong = cpnctl(&[
        "--server",
        &url,
        "--ca",
        p(&other.pem),
        "path",
        "--request",
        p(&r),
    ]);
    assert_eq!(wrong.status.code(), Some(1), "{}", stderr(&wrong));
    let plain = cpnctl(&[
        "--server",
        &format!("http://{}", server.addr),
        "path",
        "--request",
        p(&r),
    ]);
    assert!(!plain.status.success(), "plaintext to a TLS server");
    drop(server);

    // Mutual TLS: only a client certificate of the CA gets in.
    let server = cpnd(&[
        "--topology",
        &lab(),
        "--tls-cert",
        p(&cert),
        "--tls-key",
        p(&key),
        "--tls-client-ca",
        p(&ca.pem),
    ]);
    let url = format!("https://{}", server.addr);
    let base = ["--server", url.as_str(), "--ca", p(&ca.pem)];
    let with = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        args.extend_from_slice(&["path", "--request", p(&r), "--json"]);
        cpnctl(&args)
    };
    let ok = with(&["--cert", p(&client), "--key", p(&client_key)]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(!with(&[]).status.success(), "no client certificate");
    assert!(
        !with(&["--cert", p(&rogue), "--key", p(&rogue_key)])
            .status
            .success(),
        "a client certificate of another CA"
    );
}

#[test]
fn plaintext_is_for_loopback() {
    let out = Command::new(env!("CARGO_BIN_EXE_cpnd"))
        .args(["--topology", &lab(), "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("give --tls-cert and --tls-key"),
        "{}",
        stderr(&out)
    );
    // An agent programs a router: beyond loopback it wants mutual TLS.
    let out = Command::new(env!("CARGO_BIN_EXE_cpn-router"))
        .args(["--mock", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--tls-client-ca (mutual TLS)"),
        "{}",
        stderr(&out)
    );
}

fn authed<T>(token: Option<&str>, message: T) -> Request<T> {
    let mut r = Request::new(message);
    if let Some(t) = token {
        r.metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    r
}

fn install_request(name: &str, from: &str) -> pb::InstallPolicyRequest {
    let doc = parse_request(&format!(
        "{{from: {from}, compute: {{kind: general, tflops: 1}}}}"
    ))
    .unwrap();
    pb::InstallPolicyRequest {
        name: name.into(),
        request: Some(convert::request_to_pb(&doc)),
    }
}

fn names(r: pb::ListPoliciesResponse) -> Vec<String> {
    let mut v: Vec<String> = r.policies.into_iter().map(|p| p.name).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_denials() {
    let dir = tempfile::tempdir().unwrap();
    let access = dir.path().join("access.yaml");
    let audit = dir.path().join("audit.jsonl");
    let tokens = [
        ("root", "tok-admin", "admin"),
        ("oss-a", "tok-a", "operator:op-a"),
        ("oss-b", "tok-b", "operator:op-b"),
        ("noc", "tok-view", "viewer"),
    ];
    let mut yaml = "tokens:\n".to_owned();
    for (name, token, role) in tokens {
        yaml += &format!(
            "  - {{name: {name}, sha256: {}, role: \"{role}\"}}\n",
            token_hash(token)
        );
    }
    std::fs::write(&access, yaml).unwrap();
    let server = cpnd(&[
        "--topology",
        &lab(),
        "--access",
        p(&access),
        "--audit-log",
        p(&audit),
    ]);
    let channel = server.channel().await;
    let mut pol = PolicyServiceClient::new(channel.clone());
    let listing = pol.clone();
    let mut topo = TopologyServiceClient::new(channel);

    // No token, or an unknown one: UNAUTHENTICATED.
    for t in [None, Some("nope")] {
        let e = pol
            .list_policies(authed(t, pb::ListPoliciesRequest {}))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated);
    }

    // A watch by op-a, before anything is installed.
    let mut watch = pol
        .watch_policies(authed(
            Some("tok-a"),
            pb::WatchPoliciesRequest { resume_after: 0 },
        ))
        .await
        .unwrap()
        .into_inner();

    // Operators install at their own headends only.
    pol.install_policy(authed(Some("tok-a"), install_request("a-job", "a1")))
        .await
        .unwrap();
    let e = pol
        .install_policy(authed(Some("tok-a"), install_request("a-at-b", "b1")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{}", e.message());
    pol.install_policy(authed(Some("tok-b"), install_request("b-job", "b1")))
        .await
        .unwrap();
    // A viewer changes nothing.
    let e = pol
        .install_policy(authed(Some("tok-view"), install_request("v-job", "a1")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);

    // Each operator sees its own; viewer and admin see all.
    let list = |t: &'static str| {
        let mut pol = listing.clone();
        async move {
            names(
                pol.list_policies(authed(Some(t), pb::ListPoliciesRequest {}))
                    .await
                    .unwrap()
                    .into_inner(),
            )
        }
    };
    assert_eq!(list("tok-a").await, ["a-job"]);
    assert_eq!(list("tok-b").await, ["b-job"]);
    assert_eq!(list("tok-view").await, ["a-job", "b-job"]);
    let e = pol
        .get_policy(authed(
            Some("tok-a"),
            pb::GetPolicyRequest {
                name: "b-job".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);

    // op-a cannot remove op-b's policy: refused, and the policy is intact.
    let e = pol
        .remove_policy(authed(
            Some("tok-a"),
            pb::RemovePolicyRequest {
                name: "b-job".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert_eq!(list("tok-admin").await, ["a-job", "b-job"]);
    let e = pol
        .remove_policy(authed(
            Some("tok-view"),
            pb::RemovePolicyRequest {
                name: "a-job".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);

    // The network is the admin's: events from an operator are refused.
    let event = convert::event_to_pb(&cpn::document::parse_event("{link_down: a1-a2}").unwrap());
    let e = topo
        .apply_event(authed(
            Some("tok-a"),
            pb::ApplyEventRequest {
                event: Some(event.clone()),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    topo.get_topology(authed(Some("tok-a"), pb::GetTopologyRequest {}))
        .await
        .unwrap();
    topo.apply_event(authed(
        Some("tok-admin"),
        pb::ApplyEventRequest { event: Some(event) },
    ))
    .await
    .unwrap();
    pol.remove_policy(authed(
        Some("tok-admin"),
        pb::RemovePolicyRequest {
            name: "b-job".into(),
        },
    ))
    .await
    .unwrap();
    pol.remove_policy(authed(
        Some("tok-a"),
        pb::RemovePolicyRequest {
            name: "a-job".into(),
        },
    ))
    .await
    .unwrap();

    // op-a's watch saw only a-job: installed, (moved by the event), removed.
    let mut seen = Vec::new();
    loop {
        let c = tokio::time::timeout(Duration::from_secs(10), watch.next())
            .await
            .expect("a change")
            .unwrap()
            .unwrap();
        seen.push(c.name.clone());
        if c.kind == pb::ChangeKind::Removed as i32 {
            break;
        }
    }
    assert!(seen.iter().all(|n| n == "a-job"), "{seen:?}");

    // The audit log has every state-changing call, with who and result.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let denied = lines
        .iter()
        .find(|l| l["who"] == "oss-a" && l["method"] == "RemovePolicy" && l["target"] == "b-job")
        .expect("the denied removal is audited");
    assert!(
        denied["result"]
            .as_str()
            .unwrap()
            .starts_with("PermissionDenied")
    );
    assert!(
        lines
            .iter()
            .any(|l| l["who"] == "root" && l["method"] == "ApplyEvent" && l["result"] == "ok")
    );
    assert!(lines.iter().any(|l| l["who"] == "oss-b"
        && l["method"] == "InstallPolicy"
        && l["target"] == "b-job"
        && l["result"] == "ok"));
    // A role refusal names the refused caller.
    assert!(
        lines.iter().any(|l| l["who"] == "noc"
            && l["role"] == "viewer"
            && l["result"]
                .as_str()
                .unwrap()
                .starts_with("PermissionDenied")),
        "{lines:?}"
    );

    // cpnctl passes the token (--token or CPN_TOKEN).
    let url = format!("http://{}", server.addr);
    let out = cpnctl(&["--server", &url, "policy", "list", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("bearer token is required"),
        "{}",
        stderr(&out)
    );
    let out = cpnctl(&[
        "--server", &url, "--token", "tok-view", "policy", "list", "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_have_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let access = dir.path().join("access.yaml");
    std::fs::write(
        &access,
        format!(
            "tokens: [{{name: x, sha256: {}, role: admin}}]\n",
            token_hash("t")
        ),
    )
    .unwrap();
    let server = cpnd(&[
        "--topology",
        &lab(),
        "--access",
        p(&access),
        "--rate-limit",
        "5",
    ]);
    let channel = server.channel().await;
    let mut topo = TopologyServiceClient::new(channel.clone());

    // Call rate: a burst of 5 (one second's worth; the calls take far less
    // than the 200 ms a sixth would need to refill), then
    // RESOURCE_EXHAUSTED naming the token.
    let mut passed = 0;
    let mut refused = None;
    for _ in 0..20 {
        match topo
            .get_topology(authed(Some("t"), pb::GetTopologyRequest {}))
            .await
        {
            Ok(_) => passed += 1,
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    assert_eq!(passed, 5);
    let e = refused.expect("the rate limit bites");
    assert_eq!(e.code(), Code::ResourceExhausted);
    assert!(
        e.message().contains("token x") && e.message().contains("5 calls a second"),
        "{}",
        e.message()
    );
    drop(server);

    let server = cpnd(&["--topology", &lab()]);
    let channel = server.channel().await;
    let mut topo =
        TopologyServiceClient::new(channel.clone()).max_encoding_message_size(usize::MAX);
    // An alias bomb is refused, and the controller keeps its topology.
    let mut bomb =
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
            .to_owned();
    for (i, c) in ('b'..='i').enumerate() {
        let prev = (b'a' + i as u8) as char;
        bomb += &format!(
            "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        );
    }
    let e = topo
        .replace_topology(pb::ReplaceTopologyRequest { document: bomb })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{}", e.message());
    // A message over the size limit.
    let huge = "#".repeat(cpn::grpc::MAX_MESSAGE_BYTES + 1);
    let e = topo
        .replace_topology(pb::ReplaceTopologyRequest { document: huge })
        .await
        .unwrap_err();
    assert!(
        matches!(e.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{:?} {}",
        e.code(),
        e.message()
    );
    let t = topo
        .get_topology(pb::GetTopologyRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.topology.unwrap().name, "lab", "the topology stands");
    drop(server);

    // The call deadline: a call whose request never arrives (the client
    // opens the stream and sends nothing) cannot finish by itself, so only
    // the deadline ends it; a call that can finish goes through.
    let server = cpnd(&["--topology", &lab(), "--call-timeout-ms", "300"]);
    let channel = server.channel().await;
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let never = tokio_stream::pending::<pb::ListPoliciesRequest>();
    let path =
        tonic::codegen::http::uri::PathAndQuery::from_static("/cpn.v1.PolicyService/ListPolicies");
    let codec =
        tonic_prost::ProstCodec::<pb::ListPoliciesRequest, pb::ListPoliciesResponse>::default();
    let e = grpc
        .client_streaming(tonic::Request::new(never), path, codec)
        .await
        .unwrap_err();
    assert!(
        matches!(e.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{:?} {}",
        e.code(),
        e.message()
    );
    TopologyServiceClient::new(channel)
        .get_topology(pb::GetTopologyRequest {})
        .await
        .expect("a call that can finish within the deadline does");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_southbound_speaks_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = certs::ca(d, "sb-ca");
    let (agent_cert, agent_key) = ca.issue(d, "agent", &["127.0.0.1"]);
    let (cpnd_cert, cpnd_key) = ca.issue(d, "cpnd-client", &[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let _agent = daemon::spawn(
        env!("CARGO_BIN_EXE_cpn-router"),
        &[
            "--mock",
            "--listen",
            &listen,
            "--tls-cert",
            p(&agent_cert),
            "--tls-key",
            p(&agent_key),
            "--tls-client-ca",
            p(&ca.pem),
        ],
        "serving the mock router agent",
    );
    let topology = d.join("lab.yaml");
    std::fs::write(&topology, common::server::lab_yaml_at(&listen)).unwrap();
    let server = cpnd(&[
        "--topology",
        p(&topology),
        "--agent-ca",
        p(&ca.pem),
        "--agent-cert",
        p(&cpnd_cert),
        "--agent-key",
        p(&cpnd_key),
        "--retry-max-ms",
        "200",
    ]);
    let channel = server.channel().await;
    let mut pol = PolicyServiceClient::new(channel);
    pol.install_policy(install_request("job", "a1"))
        .await
        .unwrap();
    let what = "the policy is applied over mutual TLS";
    eventually(what, Duration::from_secs(20), || {
        let mut pol = pol.clone();
        async move {
            let p = pol
                .get_policy(pb::GetPolicyRequest { name: "job".into() })
                .await
                .unwrap()
                .into_inner()
                .policy
                .unwrap();
            if p.southbound == pb::SouthboundState::Applied as i32 {
                Ok(())
            } else {
                Err(p.southbound_detail)
            }
        }
    })
    .await;
    // The agent holds it: ask it over mutual TLS too.
    let tls = cpn::tls::ClientTls {
        ca: ca.pem.clone(),
        identity: Some(cpn::tls::KeyPair {
            cert: cpnd_cert.clone(),
            key: cpnd_key.clone(),
        }),
    };
    let channel = Channel::from_shared(format!("https://{listen}"))
        .unwrap()
        .tls_config(tls.config("127.0.0.1").unwrap())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let held = cpn::proto::v1::router_agent_client::RouterAgentClient::new(channel)
        .list_state(pb::ListStateRequest {
            router: "a1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(held.policies[0].name, "job");
}
