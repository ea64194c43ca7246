//! A `cpnd` with its web console for tests: tokens for each role, and the
//! gRPC calls the console tests make beside the page.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;

use cpn::api::access::token_hash;
use cpn::daemon;
use cpn::document::{PolicyJson, parse_request};
use cpn::proto::convert;
use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use cpn::proto::v1::topology_service_client::TopologyServiceClient;
use cpn::store::MemoryStore;
use tonic::Request;

use super::server::{TestServer, start_with};

pub const ADMIN: &str = "tok-admin";
pub const VIEWER: &str = "tok-viewer";
pub const OP_B: &str = "tok-op-b";

/// A request whose best placement from a1 crosses both operators.
pub const TRAIN: &str = "from: a1\ncompute: {kind: ai, tflops: 200}\n";

/// A server on `topology` with a console on port 0; with tokens (admin,
/// viewer, operator op-b) and an audit log in `dir` when `dir` is given.
pub async fn server(
    topology: cpn::model::Topology,
    dir: Option<&Path>,
) -> (TestServer, SocketAddr) {
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
pub fn authed<T>(token: Option<&str>, message: T) -> Request<T> {
    let mut r = Request::new(message);
    if let Some(t) = token {
        r.metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    r
}

pub async fn install(s: &TestServer, token: Option<&str>, name: &str, yaml: &str) -> PolicyJson {
    let mut c = PolicyServiceClient::new(s.channel().await);
    let r = c
        .install_policy(authed(
            token,
            pb::InstallPolicyRequest {
                name: name.into(),
                request: Some(convert::request_to_pb(&parse_request(yaml).unwrap())),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    convert::policy_from_pb(&r.policy.unwrap()).unwrap()
}

pub async fn get(s: &TestServer, token: Option<&str>, name: &str) -> PolicyJson {
    let mut c = PolicyServiceClient::new(s.channel().await);
    let r = c
        .get_policy(authed(token, pb::GetPolicyRequest { name: name.into() }))
        .await
        .unwrap()
        .into_inner();
    convert::policy_from_pb(&r.policy.unwrap()).unwrap()
}

pub async fn link_down(s: &TestServer, token: Option<&str>, link: &str) -> Vec<String> {
    let mut c = TopologyServiceClient::new(s.channel().await);
    let event = cpn::document::parse_event(&format!("link_down: {link}")).unwrap();
    c.apply_event(authed(
        token,
        pb::ApplyEventRequest {
            event: Some(convert::event_to_pb(&event)),
            ..Default::default()
        },
    ))
    .await
    .unwrap()
    .into_inner()
    .affected_policies
}
