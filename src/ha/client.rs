//! The few etcd v3 calls CPN makes, over the client generated from etcd's
//! protos (`proto/etcd/`): ranges read at one revision and in pages, fenced
//! transactions, leases and their keep-alive stream, and prefix watches.
//! One channel per member; a member that does not answer is left for the
//! next one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

use crate::proto::etcd::etcdserverpb as pb;
use crate::proto::etcd::mvccpb::KeyValue;
use pb::kv_client::KvClient;
use pb::lease_client::LeaseClient;
use pb::watch_client::WatchClient;

/// Longest a unary call may take: etcd answers within its own request
/// timeout when it has a quorum; without one, calls fail after this.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);
/// Keys per page when reading a whole prefix.
const PAGE: i64 = 2000;
/// Largest response accepted (a page of policies, a topology).
const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// Why an etcd call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EtcdError {
    /// No member answered (down, no quorum, or a timeout).
    #[error("etcd is unreachable or has no quorum: {0}")]
    Unreachable(String),
    /// The history asked for was compacted away (a watcher re-reads).
    #[error("etcd compacted its history up to revision {0}")]
    Compacted(i64),
    /// Anything else etcd refused.
    #[error("etcd refused: {0}")]
    Refused(String),
}

impl From<tonic::Status> for EtcdError {
    fn from(s: tonic::Status) -> Self {
        use tonic::Code;
        match s.code() {
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown => {
                EtcdError::Unreachable(s.message().to_owned())
            }
            _ if s.message().contains("compacted") => EtcdError::Compacted(0),
            _ => EtcdError::Refused(format!("{:?}: {}", s.code(), s.message())),
        }
    }
}

/// A client of one etcd cluster: one lazily connected channel per member,
/// calls sent to the member that answered last, and to the next one when
/// it does not answer (a member that died, or one cut off from the quorum).
#[derive(Clone)]
pub struct Etcd {
    members: Arc<Vec<Channel>>,
    current: Arc<AtomicUsize>,
}

/// `key`'s prefix range end: the key after every key that starts with it.
pub fn prefix_end(key: &[u8]) -> Vec<u8> {
    let mut end = key.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// Pause between tries once every member was tried.
const RETRY_AFTER: Duration = Duration::from_millis(50);
/// Longest one member has to answer one try.
const TRY_TIMEOUT: Duration = Duration::from_millis(1000);

impl Etcd {
    /// A client of the members at `endpoints` (`http://HOST:PORT`, or
    /// `https://` with `tls`). Connects lazily: a member that is down now
    /// is tried again later.
    pub fn connect(endpoints: &[String], tls: Option<ClientTlsConfig>) -> Result<Etcd, EtcdError> {
        let mut members = Vec::new();
        for e in endpoints {
            let mut endpoint = Endpoint::from_shared(e.clone())
                .map_err(|err| EtcdError::Refused(format!("etcd endpoint {e}: {err}")))?
                .connect_timeout(Duration::from_millis(500))
                .tcp_nodelay(true)
                .http2_keep_alive_interval(Duration::from_secs(1))
                .keep_alive_timeout(Duration::from_secs(2))
                .keep_alive_while_idle(true);
            if let Some(tls) = &tls {
                endpoint = endpoint
                    .tls_config(tls.clone())
                    .map_err(|err| EtcdError::Refused(format!("etcd TLS: {err}")))?;
            }
            members.push(endpoint.connect_lazy());
        }
        if members.is_empty() {
            return Err(EtcdError::Refused("no etcd endpoint".into()));
        }
        Ok(Etcd {
            members: Arc::new(members),
            current: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The member to use now, and its index.
    fn member(&self) -> (usize, Channel) {
        let i = self.current.load(Ordering::SeqCst) % self.members.len();
        (i, self.members[i].clone())
    }

    /// Moves on from member `i` (if no other call did already).
    fn next(&self, i: usize) {
        let _ = self.current.compare_exchange(
            i,
            (i + 1) % self.members.len(),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    /// A unary call on one member after another while none answers, for
    /// at most [`CALL_TIMEOUT`] in all. Every call CPN makes may be
    /// repeated: reads, and transactions that put the same values under
    /// the same fence (a repeated change log is skipped by sequence).
    async fn call<T, F, Fut>(&self, mut call: F) -> Result<T, EtcdError>
    where
        F: FnMut(Channel) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let started = tokio::time::Instant::now();
        let mut tried = 0;
        loop {
            let (i, channel) = self.member();
            let left = CALL_TIMEOUT.saturating_sub(started.elapsed());
            let e = match tokio::time::timeout(left.min(TRY_TIMEOUT), call(channel)).await {
                Ok(Ok(r)) => return Ok(r.into_inner()),
                Ok(Err(s)) => EtcdError::from(s),
                Err(_) => EtcdError::Unreachable(format!("no answer within {TRY_TIMEOUT:?}")),
            };
            if !matches!(e, EtcdError::Unreachable(_)) {
                return Err(e);
            }
            self.next(i);
            tried += 1;
            if tried % self.members.len() == 0 {
                tokio::time::sleep(RETRY_AFTER).await;
            }
            if started.elapsed() >= CALL_TIMEOUT {
                return Err(e);
            }
        }
    }

    /// A stream call (watch, keep-alive) on the current member; on failure
    /// the next call goes to the next member.
    async fn open<T>(
        &self,
        f: impl FnOnce(
            Channel,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>> + Send>,
        >,
    ) -> Result<T, EtcdError> {
        let (i, channel) = self.member();
        match tokio::time::timeout(TRY_TIMEOUT, f(channel)).await {
            Ok(Ok(r)) => Ok(r.into_inner()),
            Ok(Err(s)) => {
                self.next(i);
                Err(s.into())
            }
            Err(_) => {
                self.next(i);
                Err(EtcdError::Unreachable(format!(
                    "no answer within {TRY_TIMEOUT:?}"
                )))
            }
        }
    }

    /// Every key under `prefix` at one revision (the latest when `at` is
    /// 0), read in pages; and that revision.
    pub async fn range_prefix(
        &self,
        prefix: &[u8],
        at: i64,
    ) -> Result<(Vec<KeyValue>, i64), EtcdError> {
        let mut kvs = Vec::new();
        let revision = self
            .range_prefix_pages(prefix, at, |page| {
                kvs.extend(page);
                Ok(())
            })
            .await?;
        Ok((kvs, revision))
    }

    /// Every key under `prefix` at one revision (the latest when `at` is
    /// 0), handed to `each` a page at a time (so that a large state is
    /// never held twice); returns that revision.
    pub async fn range_prefix_pages(
        &self,
        prefix: &[u8],
        at: i64,
        mut each: impl FnMut(Vec<KeyValue>) -> Result<(), EtcdError>,
    ) -> Result<i64, EtcdError> {
        let end = prefix_end(prefix);
        let mut key = prefix.to_vec();
        let mut revision = at;
        loop {
            let request = pb::RangeRequest {
                key: key.clone(),
                range_end: end.clone(),
                limit: PAGE,
                revision,
                ..Default::default()
            };
            let r = self
                .call(|c| {
                    let request = request.clone();
                    async move { kv(c).range(request).await }
                })
                .await?;
            if revision == 0 {
                revision = r.header.as_ref().map_or(0, |h| h.revision);
            }
            let more = r.more;
            if let Some(last) = r.kvs.last() {
                key = last.key.clone();
                key.push(0);
            }
            each(r.kvs)?;
            if !more {
                return Ok(revision);
            }
        }
    }

    /// One key's value, if any.
    pub async fn get(&self, key: &[u8]) -> Result<Option<KeyValue>, EtcdError> {
        let request = pb::RangeRequest {
            key: key.to_vec(),
            ..Default::default()
        };
        let r = self
            .call(|c| {
                let request = request.clone();
                async move { kv(c).range(request).await }
            })
            .await?;
        Ok(r.kvs.into_iter().next())
    }

    /// A transaction.
    pub async fn txn(&self, txn: pb::TxnRequest) -> Result<pb::TxnResponse, EtcdError> {
        self.call(|c| {
            let txn = txn.clone();
            async move { kv(c).txn(txn).await }
        })
        .await
    }

    /// Compacts etcd's history up to `revision` (operators and tests; CPN
    /// relies on etcd's auto-compaction).
    pub async fn compact(&self, revision: i64) -> Result<(), EtcdError> {
        self.call(|c| async move {
            kv(c)
                .compact(pb::CompactionRequest {
                    revision,
                    physical: true,
                })
                .await
        })
        .await
        .map(|_| ())
    }

    /// A lease of `ttl` seconds; its id and granted TTL.
    pub async fn grant(&self, ttl: i64) -> Result<(i64, i64), EtcdError> {
        let r = self
            .call(|c| async move {
                LeaseClient::new(c)
                    .lease_grant(pb::LeaseGrantRequest { ttl, id: 0 })
                    .await
            })
            .await?;
        if !r.error.is_empty() {
            return Err(EtcdError::Refused(r.error));
        }
        Ok((r.id, r.ttl))
    }

    /// Ends a lease now (its keys go with it).
    pub async fn revoke(&self, id: i64) -> Result<(), EtcdError> {
        self.call(|c| async move {
            LeaseClient::new(c)
                .lease_revoke(pb::LeaseRevokeRequest { id })
                .await
        })
        .await
        .map(|_| ())
    }

    /// A keep-alive stream, its first renewal of lease `id` sent (etcd
    /// answers the call with the first renewal): send lease ids on the
    /// sender, read the TTLs etcd granted on the stream.
    pub async fn keep_alive(
        &self,
        id: i64,
    ) -> Result<
        (
            mpsc::Sender<pb::LeaseKeepAliveRequest>,
            tonic::Streaming<pb::LeaseKeepAliveResponse>,
        ),
        EtcdError,
    > {
        let (tx, rx) = mpsc::channel(4);
        tx.send(pb::LeaseKeepAliveRequest { id })
            .await
            .map_err(|_| EtcdError::Unreachable("keep-alive not sent".into()))?;
        let stream = self
            .open(move |c| {
                Box::pin(async move {
                    LeaseClient::new(c)
                        .lease_keep_alive(ReceiverStream::new(rx))
                        .await
                })
            })
            .await?;
        Ok((tx, stream))
    }

    /// Watches every key under `prefix` from revision `from` (inclusive).
    /// Keep the sender: dropping it ends the watch.
    pub async fn watch_prefix(
        &self,
        prefix: &[u8],
        from: i64,
    ) -> Result<
        (
            mpsc::Sender<pb::WatchRequest>,
            tonic::Streaming<pb::WatchResponse>,
        ),
        EtcdError,
    > {
        let (tx, rx) = mpsc::channel(4);
        tx.send(pb::WatchRequest {
            request_union: Some(pb::watch_request::RequestUnion::CreateRequest(
                pb::WatchCreateRequest {
                    key: prefix.to_vec(),
                    range_end: prefix_end(prefix),
                    start_revision: from,
                    progress_notify: true,
                    ..Default::default()
                },
            )),
        })
        .await
        .map_err(|_| EtcdError::Unreachable("watch request not sent".into()))?;
        let stream = self
            .open(move |c| {
                Box::pin(async move {
                    WatchClient::new(c)
                        .max_decoding_message_size(MAX_RESPONSE_BYTES)
                        .watch(ReceiverStream::new(rx))
                        .await
                })
            })
            .await?;
        Ok((tx, stream))
    }
}

/// The KV service of one member.
fn kv(c: Channel) -> KvClient<Channel> {
    KvClient::new(c).max_decoding_message_size(MAX_RESPONSE_BYTES)
}

/// A put, as a transaction operation.
pub fn put(key: Vec<u8>, value: Vec<u8>, lease: i64) -> pb::RequestOp {
    pb::RequestOp {
        request: Some(pb::request_op::Request::RequestPut(pb::PutRequest {
            key,
            value,
            lease,
            ..Default::default()
        })),
    }
}

/// A delete of one key, as a transaction operation.
pub fn delete(key: Vec<u8>) -> pb::RequestOp {
    pb::RequestOp {
        request: Some(pb::request_op::Request::RequestDeleteRange(
            pb::DeleteRangeRequest {
                key,
                ..Default::default()
            },
        )),
    }
}

/// A read of one key, as a transaction operation.
pub fn read(key: Vec<u8>) -> pb::RequestOp {
    pb::RequestOp {
        request: Some(pb::request_op::Request::RequestRange(pb::RangeRequest {
            key,
            ..Default::default()
        })),
    }
}

/// The comparison "`key` was created at revision `revision`" (0: it does
/// not exist).
pub fn created_at(key: Vec<u8>, revision: i64) -> pb::Compare {
    pb::Compare {
        result: pb::compare::CompareResult::Equal as i32,
        target: pb::compare::CompareTarget::Create as i32,
        key,
        target_union: Some(pb::compare::TargetUnion::CreateRevision(revision)),
        range_end: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ends_after_every_key_under_it() {
        assert_eq!(prefix_end(b"/cpn/"), b"/cpn0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff"), vec![0]);
    }
}
