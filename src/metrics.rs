//! Prometheus metrics of `cpnd`: request counts and latencies per gRPC
//! method, policies by state, re-optimization counts and durations; served as
//! text on `/metrics` by a small HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::controller::{PolicyCounts, Stats};

/// Labels of a request metric.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// gRPC method, e.g. "InstallPolicy".
    pub method: String,
    /// gRPC status code name, e.g. "Ok", "InvalidArgument".
    pub code: String,
}

/// Labels of a per-method histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabels {
    /// gRPC method.
    pub method: String,
}

/// Labels of the policies gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    /// "up" or "down"; southbound: "applied", "pending", "failed" or "disabled".
    pub state: String,
}

/// Labels of the BGP-LS metrics with a kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// What is counted: a session state, a route kind, an apply kind.
    pub kind: String,
}

/// The metrics of the BGP-LS speaker.
struct BgpLsMetrics {
    sessions: Family<KindLabels, Gauge>,
    routes: Family<KindLabels, Gauge>,
    received: Family<KindLabels, Counter>,
    applies: Family<KindLabels, Counter>,
}

/// Every metric `cpnd` exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<MethodLabels, Histogram>,
    /// Policies by state.
    pub policies: Family<StateLabels, Gauge>,
    /// Data centers' reporters by state (live, stale, lost).
    pub reporters: Family<StateLabels, Gauge>,
    /// Policies by southbound state.
    pub southbound: Family<StateLabels, Gauge>,
    /// Events applied.
    pub events: Counter,
    /// Policies re-evaluated.
    pub reoptimizations: Counter,
    /// Seconds spent re-evaluating (a counter of seconds, as Prometheus does).
    pub reoptimization_seconds:
        prometheus_client::metrics::counter::Counter<f64, std::sync::atomic::AtomicU64>,
    bgp_ls: BgpLsMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh set of metrics.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cpn");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "grpc_requests",
            "gRPC requests by method and status code",
            requests.clone(),
        );
        let latency = Family::<MethodLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_05, 2.0, 18))
        });
        registry.register(
            "grpc_request_seconds",
            "gRPC request latency by method",
            latency.clone(),
        );
        let policies = Family::<StateLabels, Gauge>::default();
        registry.register("policies", "Installed policies by state", policies.clone());
        let southbound = Family::<StateLabels, Gauge>::default();
        registry.register(
            "policies_southbound",
            "Installed policies by southbound state",
            southbound.clone(),
        );
        let reporters = Family::<StateLabels, Gauge>::default();
        registry.register(
            "datacenter_reporters",
            "Data centers that report their pools, by reporter state (live, stale, lost)",
            reporters.clone(),
        );
        let events = Counter::default();
        registry.register("events", "Topology events applied", events.clone());
        let reoptimizations = Counter::default();
        registry.register(
            "reoptimizations",
            "Policies re-evaluated after events and removals",
            reoptimizations.clone(),
        );
        let reoptimization_seconds = prometheus_client::metrics::counter::Counter::<
            f64,
            std::sync::atomic::AtomicU64,
        >::default();
        registry.register(
            "reoptimization_seconds",
            "Seconds spent re-evaluating policies",
            reoptimization_seconds.clone(),
        );
        let bgp_ls = BgpLsMetrics {
            sessions: Family::default(),
            routes: Family::default(),
            received: Family::default(),
            applies: Family::default(),
        };
        registry.register(
            "bgp_ls_sessions",
            "BGP-LS peers by session state",
            bgp_ls.sessions.clone(),
        );
        registry.register(
            "bgp_ls_routes",
            "BGP-LS routes held, by kind (node, link, prefix, srv6_sid, other)",
            bgp_ls.routes.clone(),
        );
        registry.register(
            "bgp_ls_received",
            "What BGP-LS peers sent, by kind (updates, announced, withdrawn, unknown_tlvs, malformed_tlvs, unknown_nlri, attributes_discarded, treated_as_withdraw, end_of_rib)",
            bgp_ls.received.clone(),
        );
        registry.register(
            "bgp_ls_applies",
            "Learned changes applied to the model, by kind (events, rebuild)",
            bgp_ls.applies.clone(),
        );
        Metrics {
            bgp_ls,
            registry,
            requests,
            latency,
            policies,
            reporters,
            southbound,
            events,
            reoptimizations,
            reoptimization_seconds,
        }
    }

    /// Brings the gauges and counters up to the controller's figures.
    pub fn update(&self, stats: &Stats, counts: &PolicyCounts) {
        let set = |family: &Family<StateLabels, Gauge>, state: &str, n: usize| {
            family
                .get_or_create(&StateLabels {
                    state: state.to_owned(),
                })
                .set(n as i64);
        };
        set(&self.policies, "up", counts.up);
        set(&self.policies, "down", counts.down);
        set(&self.southbound, "applied", counts.applied);
        set(&self.southbound, "pending", counts.pending);
        set(&self.southbound, "failed", counts.failed);
        set(&self.southbound, "disabled", counts.disabled);
        let add = |c: &Counter, v: u64| c.inc_by(v.saturating_sub(c.get()));
        add(&self.events, stats.events);
        add(&self.reoptimizations, stats.reoptimizations);
        let s = stats.reoptimization_seconds - self.reoptimization_seconds.get();
        if s > 0.0 {
            self.reoptimization_seconds.inc_by(s);
        }
    }

    /// Brings the reporters gauge up to the topology.
    pub fn update_reporters(&self, t: &crate::model::Topology) {
        use crate::model::ReporterState as S;
        for state in [S::Live, S::Stale, S::Lost] {
            let n = t
                .datacenters()
                .iter()
                .filter(|d| d.reporter.is_some_and(|r| r.state == state))
                .count();
            self.reporters
                .get_or_create(&StateLabels {
                    state: state.as_str().to_owned(),
                })
                .set(n as i64);
        }
    }

    /// Brings the BGP-LS metrics up to the speaker's status.
    pub fn update_bgp_ls(&self, s: &crate::bgp_ls::status::Status) {
        let kind = |k: &str| KindLabels { kind: k.to_owned() };
        let m = &self.bgp_ls;
        for state in ["Established", "OpenSent", "OpenConfirm", "Idle"] {
            let n = s.peers.iter().filter(|p| p.state == state).count();
            m.sessions.get_or_create(&kind(state)).set(n as i64);
        }
        let sum = |f: fn(&crate::bgp_ls::status::PeerStatus) -> usize| {
            s.peers.iter().map(f).sum::<usize>() as i64
        };
        m.routes.get_or_create(&kind("node")).set(sum(|p| p.nodes));
        m.routes.get_or_create(&kind("link")).set(sum(|p| p.links));
        m.routes
            .get_or_create(&kind("prefix"))
            .set(sum(|p| p.prefixes));
        m.routes
            .get_or_create(&kind("srv6_sid"))
            .set(sum(|p| p.srv6_sids));
        m.routes.get_or_create(&kind("other")).set(sum(|p| p.other));
        let t = s.totals();
        let add = |family: &Family<KindLabels, Counter>, k: &str, v: u64| {
            let c = family.get_or_create(&kind(k));
            c.inc_by(v.saturating_sub(c.get()));
        };
        for (k, v) in [
            ("updates", t.updates),
            ("announced", t.announced),
            ("withdrawn", t.withdrawn),
            ("unknown_tlvs", t.unknown_tlvs),
            ("malformed_tlvs", t.malformed_tlvs),
            ("unknown_nlri", t.unknown_nlri),
            ("attributes_discarded", t.attributes_discarded),
            ("treated_as_withdraw", t.treated_as_withdraw),
            ("end_of_rib", t.end_of_rib),
        ] {
            add(&m.received, k, v);
        }
        add(&m.applies, "events", s.event_batches);
        add(&m.applies, "rebuild", s.rebuilds);
    }

    /// Records one request.
    pub fn record(&self, method: &str, code: tonic::Code, started: Instant) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                code: format!("{code:?}"),
            })
            .inc();
        self.latency
            .get_or_create(&MethodLabels {
                method: method.to_owned(),
            })
            .observe(started.elapsed().as_secs_f64());
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// Serves `/metrics` on `addr` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    refresh: impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
    + Send
    + Sync
    + 'static,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper::service::service_fn;
    use hyper::{Response, StatusCode};
    use hyper_util::rt::TokioIo;

    let refresh = Arc::new(refresh);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let metrics = metrics.clone();
        let refresh = refresh.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let metrics = metrics.clone();
                let refresh = refresh.clone();
                async move {
                    let response = if req.uri().path() == "/metrics" {
                        refresh().await;
                        Response::builder()
                            .header(
                                "content-type",
                                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                            )
                            .body(Full::new(Bytes::from(metrics.encode())))
                    } else {
                        Response::builder()
                            .status(StatusCode::NOT_FOUND)
                            .body(Full::new(Bytes::from("try /metrics\n")))
                    };
                    Ok::<_, std::convert::Infallible>(response.expect("valid response"))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The address a metrics listener is bound to (for logs).
pub fn describe(addr: SocketAddr) -> String {
    format!("http://{addr}/metrics")
}
