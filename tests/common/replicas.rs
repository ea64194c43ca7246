//! Clients of replicated `cpnd` (tests/ha.rs): writes that follow the
//! leader across replicas, listing every page, and watching changes.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use tonic::Code;
use tonic::transport::Channel;

use super::etcd::lazy;

/// Installs and removals that follow the leader across replicas.
pub struct Writer {
    urls: Vec<String>,
    channels: Vec<Channel>,
    current: usize,
}

impl Writer {
    pub fn new(urls: &[String], start: usize) -> Writer {
        Writer {
            urls: urls.to_vec(),
            channels: urls.iter().map(|u| lazy(u)).collect(),
            current: start % urls.len(),
        }
    }

    /// After a refusal: the leader the replica named, else the next one.
    fn redirect(&mut self, s: &tonic::Status) {
        let named = s
            .metadata()
            .get(cpn::api::LEADER_METADATA)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| self.urls.iter().position(|u| u == l));
        self.current = named.unwrap_or((self.current + 1) % self.urls.len());
    }

    fn retryable(s: &tonic::Status) -> bool {
        matches!(
            s.code(),
            Code::Unavailable | Code::Cancelled | Code::DeadlineExceeded | Code::Unknown
        )
    }

    /// Installs until acknowledged.
    pub async fn install(&mut self, name: &str, request: &pb::PathRequest) {
        let started = Instant::now();
        loop {
            let mut c = PolicyServiceClient::new(self.channels[self.current].clone());
            match c
                .install_policy(pb::InstallPolicyRequest {
                    name: name.into(),
                    request: Some(request.clone()),
                    ..Default::default()
                })
                .await
            {
                Ok(_) => return,
                Err(s) if Self::retryable(&s) => self.redirect(&s),
                Err(s) => panic!("install {name}: {s:?}"),
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "install {name} acknowledged within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Removes until acknowledged (NOT_FOUND after a failed attempt: an
    /// earlier attempt removed it).
    pub async fn remove(&mut self, name: &str) {
        let started = Instant::now();
        let mut tried = false;
        loop {
            let mut c = PolicyServiceClient::new(self.channels[self.current].clone());
            match c
                .remove_policy(pb::RemovePolicyRequest {
                    name: name.into(),
                    ..Default::default()
                })
                .await
            {
                Ok(_) => return,
                Err(s) if s.code() == Code::NotFound && tried => return,
                Err(s) if Self::retryable(&s) => self.redirect(&s),
                Err(s) => panic!("remove {name}: {s:?}"),
            }
            tried = true;
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "remove {name} acknowledged within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Every policy a replica lists (all pages), and the sequence it reflects.
pub async fn list(url: &str) -> Result<(Vec<pb::Policy>, u64), tonic::Status> {
    let mut c = PolicyServiceClient::new(lazy(url));
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let r = c
            .list_policies(pb::ListPoliciesRequest {
                page_size: 10_000,
                page_token: token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        all.extend(r.policies);
        if r.next_page_token.is_empty() {
            return Ok((all, r.sequence));
        }
        token = r.next_page_token;
    }
}

/// Names listed, checking that none is listed twice.
pub fn names(policies: &[pb::Policy]) -> BTreeSet<String> {
    let set: BTreeSet<String> = policies.iter().map(|p| p.name.clone()).collect();
    assert_eq!(set.len(), policies.len(), "no policy listed twice");
    set
}

/// One change as watched: sequence, kind, name.
pub type Seen = (u64, i32, String);

/// Opens a watch on `url` after `after` (0: from now).
pub async fn open_watch(
    url: &str,
    after: u64,
) -> Result<tonic::Streaming<pb::PolicyChange>, tonic::Status> {
    let mut c = PolicyServiceClient::new(lazy(url));
    Ok(c.watch_policies(pb::WatchPoliciesRequest {
        resume_after: after,
        from_oldest: false,
    })
    .await?
    .into_inner())
}

/// Watches `url` after `after` until the stream ends or a change at
/// `until` arrives.
pub async fn watch(
    url: String,
    after: u64,
    until: Option<u64>,
) -> Result<Vec<Seen>, tonic::Status> {
    let stream = open_watch(&url, after).await?;
    Ok(collect(stream, until).await)
}

/// The changes of `stream` until it ends or a change at `until` arrives.
pub async fn collect(
    mut stream: tonic::Streaming<pb::PolicyChange>,
    until: Option<u64>,
) -> Vec<Seen> {
    let mut seen = Vec::new();
    while let Ok(Some(ch)) = stream.message().await {
        let sequence = ch.sequence;
        seen.push((sequence, ch.kind, ch.name));
        if until.is_some_and(|u| sequence >= u) {
            break;
        }
    }
    seen
}

/// One install straight to `url` (no retry): its status code and message.
pub async fn try_install(
    url: &str,
    name: &str,
    request: &pb::PathRequest,
) -> Result<(), (Code, String)> {
    PolicyServiceClient::new(lazy(url))
        .install_policy(pb::InstallPolicyRequest {
            name: name.into(),
            request: Some(request.clone()),
            ..Default::default()
        })
        .await
        .map(|_| ())
        .map_err(|s| (s.code(), s.message().to_owned()))
}
