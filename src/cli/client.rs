//! How `cpnctl` reaches `cpnd`: the URL (`http://` plaintext, `https://`
//! TLS), the CA and client certificate for TLS and mutual TLS, and the
//! bearer token every call carries. One connection per command; with
//! several replicas (`--server URL1,URL2,...`), to the leader when it
//! answers, else to the first replica that does.

use std::path::PathBuf;
use std::time::Duration;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use super::online::Failure;
use crate::tls::{ClientTls, KeyPair};

/// Where and how to reach the controller.
#[derive(Clone, Debug, Default)]
pub struct Target {
    /// `http://HOST:PORT` or `https://HOST:PORT`.
    pub url: String,
    /// The CA of the controller's certificate (https).
    pub ca: Option<PathBuf>,
    /// This client's certificate, for a controller that requires one.
    pub cert: Option<PathBuf>,
    /// Its private key.
    pub key: Option<PathBuf>,
    /// The bearer token.
    pub token: Option<String>,
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            request.metadata_mut().insert("authorization", v.clone());
        }
        Ok(request)
    }
}

/// A connection to the controller, carrying the token.
pub type Conn = InterceptedService<Channel, Bearer>;

fn bad(message: String) -> anyhow::Error {
    Failure { code: 1, message }.into()
}

/// Connects to the controller. `target.url` may list several replicas
/// (`URL1,URL2,...`, `cpnd --store etcd://...`): the first that answers is
/// asked who leads, and the leader is used when it answers (writes go
/// there); else the replica that answered (reads work on any replica).
pub async fn connect(target: &Target) -> anyhow::Result<Conn> {
    let urls = replica_urls(&target.url);
    if urls.len() == 1 {
        return connect_one(target, &urls[0]).await;
    }
    let mut failures = Vec::new();
    for url in &urls {
        match connect_one(target, url).await {
            Ok(conn) => match prefer_leader(target, url, conn).await {
                Some(conn) => return Ok(conn),
                None => failures.push(format!("{url}: no answer within {STATUS_TIMEOUT:?}")),
            },
            Err(e) => failures.push(format!("{url}: {e:#}")),
        }
    }
    Err(bad(format!(
        "none of the replicas answered:\n  {}",
        failures.join("\n  ")
    )))
}

/// A connection to the leader a standby named in its refusal of a write
/// (`UNAVAILABLE` with metadata `cpn-leader`): the leader changed since
/// this command connected. `None` for any other failure. A standby's
/// refusal changed nothing, so the write may be sent again there.
pub async fn named_leader(target: &Target, status: &tonic::Status) -> Option<Conn> {
    if status.code() != tonic::Code::Unavailable {
        return None;
    }
    let leader = status
        .metadata()
        .get(crate::api::LEADER_METADATA)?
        .to_str()
        .ok()?
        .to_owned();
    connect_one(target, &leader).await.ok()
}

/// The URLs of `--server URL1,URL2,...`.
pub fn replica_urls(server: &str) -> Vec<String> {
    server
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect()
}

/// How long a replica has to say who leads (a paused process accepts
/// connections and answers nothing).
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

/// The leader's connection when `conn` (to `url`) is to a standby that
/// names a leader that answers; else `conn`; `None` when the replica at
/// `url` does not answer.
async fn prefer_leader(target: &Target, url: &str, conn: Conn) -> Option<Conn> {
    use crate::proto::v1::GetClusterStatusRequest;
    use crate::proto::v1::cluster_service_client::ClusterServiceClient;
    let mut client = ClusterServiceClient::new(conn.clone());
    let status = tokio::time::timeout(
        STATUS_TIMEOUT,
        client.get_cluster_status(GetClusterStatusRequest {}),
    )
    .await
    .ok()?;
    let Some(replica) = status.ok().and_then(|s| s.into_inner().replica) else {
        return Some(conn);
    };
    if replica.role == "leader" || replica.leader_url.is_empty() || replica.leader_url == url {
        return Some(conn);
    }
    match connect_one(target, &replica.leader_url).await {
        Ok(leader) => Some(leader),
        Err(_) => Some(conn),
    }
}

/// Connects to the controller at `url`.
pub async fn connect_one(target: &Target, url: &str) -> anyhow::Result<Conn> {
    let url = &url.to_owned();
    let mut endpoint = Channel::from_shared(url.clone()).map_err(|e| {
        bad(format!(
            "--server {url}: {e}; expected a URL like http://127.0.0.1:50051"
        ))
    })?;
    let https = url.starts_with("https://");
    match (&target.ca, https) {
        (Some(ca), true) => {
            let tls = ClientTls {
                ca: ca.clone(),
                identity: KeyPair::from_options(
                    target.cert.clone(),
                    target.key.clone(),
                    "--cert/--key",
                )
                .map_err(|e| bad(e.0))?,
            };
            let host = endpoint.uri().host().unwrap_or_default().to_owned();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            endpoint = endpoint
                .tls_config(tls.config(host).map_err(|e| bad(e.0))?)
                .map_err(|e| bad(format!("TLS: {e}")))?;
        }
        (None, true) => {
            return Err(bad(format!(
                "--server {url}: https needs the controller's CA (--ca FILE or CPN_CA)"
            )));
        }
        (Some(_), false) => {
            return Err(bad(format!("--server {url}: --ca is for https:// URLs")));
        }
        (None, false) => {
            if target.cert.is_some() || target.key.is_some() {
                return Err(bad(format!(
                    "--server {url}: --cert/--key are for https:// URLs"
                )));
            }
            let host = endpoint.uri().host().unwrap_or_default();
            let loopback = host == "localhost"
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|a| a.is_loopback());
            if target.token.is_some() && !loopback {
                eprintln!("warning: sending the token in the clear to {url}; use https://");
            }
        }
    }
    let token = match &target.token {
        Some(t) => Some(
            format!("Bearer {t}")
                .parse()
                .map_err(|_| bad("--token: not printable ASCII".into()))?,
        ),
        None => None,
    };
    let channel = endpoint
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .connect()
        .await
        .map_err(|e| {
            let cause = std::error::Error::source(&e).map_or(String::new(), |s| format!(" ({s})"));
            bad(format!(
                "cannot reach the controller at {url}: {e}{cause}; is cpnd running there? (cpnd --topology FILE --listen ADDR)"
            ))
        })?;
    Ok(InterceptedService::new(channel, Bearer(token)))
}
