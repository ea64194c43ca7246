//! The BGP SR Policy driver: CPN's policies become SR Policy routes (SAFI
//! 73, RFC 9830) originated by a GoBGP speaker through its v3 gRPC API, so
//! that any BGP-capable headend peering with it receives them.
//!
//! One driver serves every headend of one speaker. It keeps a book of the
//! routes the speaker holds for CPN, grouped by headend: filled from one
//! listing of the whole family (shared by every headend's reconciliation for
//! [`LISTING_TTL`]) and kept current by its own pushes. Routes carry no
//! policy name; they are matched to policies by distinguisher, which is
//! unique per policy and fixed for its life.
//!
//! Make-before-break: a policy whose color or endpoint changes gets a new
//! NLRI; the new route is added before the old one is withdrawn. Otherwise
//! the new route replaces the old one under the same NLRI (an implicit
//! withdrawal: the headend never sees the policy go).

pub mod path;

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use tokio_stream::StreamExt;
use tonic::transport::{Channel, Endpoint};

use super::driver::{DriverError, Reports, RouterDriver, RouterState};
use crate::proto::gobgp as api;
use crate::proto::gobgp::gobgp_api_client::GobgpApiClient;
use crate::proto::v1 as pb;
use path::{Nlri, Route};

/// How long one listing of the speaker serves reconciliations.
pub const LISTING_TTL: Duration = Duration::from_millis(500);

/// Where a BGP speaker is and which headends it reaches.
#[derive(Clone, Debug, PartialEq)]
pub struct Speaker {
    /// Its gRPC API, `host:port`.
    pub api: String,
    /// Next hop of the routes; `::` lets the speaker put its own address.
    pub next_hop: String,
    /// Headend router id -> its BGP Identifier (the route target naming it).
    pub headends: BTreeMap<String, Ipv4Addr>,
}

/// What the speaker holds for CPN, as far as the driver knows.
#[derive(Default)]
struct Book {
    /// When the last full listing was taken.
    listed: Option<Instant>,
    /// Per headend: CPN's routes by distinguisher (a policy whose NLRI
    /// moved may briefly have two).
    routes: HashMap<String, BTreeMap<u32, Vec<Route>>>,
    /// Policy name -> distinguisher, from pushes and listings.
    names: HashMap<String, u32>,
    /// SIDs per router as last provisioned (BGP does not carry them: the
    /// headends have their own).
    sids: HashMap<String, Vec<pb::LocalSid>>,
}

/// The driver of one GoBGP speaker.
pub struct BgpDriver {
    speaker: Speaker,
    client: GobgpApiClient<Channel>,
    /// BGP Identifier -> headend router id.
    by_identifier: HashMap<Ipv4Addr, String>,
    /// The speaker's AS (in CPN's large community), asked once.
    asn: OnceCell<u32>,
    book: Mutex<Book>,
    /// Pushes hold it shared; a listing holds it alone, from the first
    /// route read to the book replaced, so that no push made meanwhile is
    /// overwritten by an older listing (and listings follow one another:
    /// those waiting use the fresh one).
    gate: tokio::sync::RwLock<()>,
}

impl BgpDriver {
    /// A driver for `speaker`; connects lazily (an unreachable speaker is
    /// retried, not refused).
    pub fn new(speaker: Speaker, timeout: Duration) -> Result<BgpDriver, DriverError> {
        let endpoint = Endpoint::from_shared(format!("http://{}", speaker.api))
            .map_err(|e| DriverError::refused(format!("BGP speaker {}: {e}", speaker.api)))?
            .connect_timeout(timeout)
            .timeout(timeout)
            .tcp_nodelay(true);
        let by_identifier = speaker
            .headends
            .iter()
            .map(|(router, id)| (*id, router.clone()))
            .collect();
        Ok(BgpDriver {
            client: GobgpApiClient::new(endpoint.connect_lazy())
                // A whole family's listing can be large.
                .max_decoding_message_size(1 << 30),
            speaker,
            by_identifier,
            asn: OnceCell::new(),
            book: Mutex::new(Book::default()),
            gate: tokio::sync::RwLock::new(()),
        })
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn asn(&self) -> Result<u32, DriverError> {
        let asn = self
            .asn
            .get_or_try_init(|| async {
                let r = self.client.clone().get_bgp(api::GetBgpRequest {}).await?;
                r.into_inner().global.map(|g| g.asn).ok_or_else(|| {
                    DriverError::transient("the speaker did not say its AS (GetBgp without global)")
                })
            })
            .await?;
        Ok(*asn)
    }

    fn identifier(&self, router: &str) -> Result<Ipv4Addr, DriverError> {
        self.speaker.headends.get(router).copied().ok_or_else(|| {
            DriverError::refused(format!(
                "router {router} is not a headend of BGP speaker {}",
                self.speaker.api
            ))
        })
    }

    async fn withdraw(&self, nlri: Nlri) -> Result<(), DriverError> {
        let r = api::DeletePathRequest {
            table_type: api::TableType::Global.into(),
            family: Some(path::family()),
            path: Some(path::withdrawal(nlri)),
            ..Default::default()
        };
        self.client.clone().delete_path(r).await?;
        Ok(())
    }

    /// Lists the speaker's SR Policy routes into the book, unless a listing
    /// younger than [`LISTING_TTL`] is there.
    async fn refresh(&self) -> Result<(), DriverError> {
        let _alone = self.gate.write().await;
        if self
            .book()
            .listed
            .is_some_and(|t| t.elapsed() < LISTING_TTL)
        {
            return Ok(());
        }
        let asn = self.asn().await?;
        let started = Instant::now();
        let request = api::ListPathRequest {
            table_type: api::TableType::Global.into(),
            family: Some(path::family()),
            ..Default::default()
        };
        let mut stream = self.client.clone().list_path(request).await?.into_inner();
        let mut routes: HashMap<String, BTreeMap<u32, Vec<Route>>> = HashMap::new();
        while let Some(r) = stream.next().await {
            let Some(destination) = r?.destination else {
                continue;
            };
            for p in &destination.paths {
                let Some(route) = path::decode(p, asn) else {
                    continue;
                };
                // CPN's: originated here, marked with CPN's community, for
                // one of this speaker's headends.
                if !route.local || route.version.is_none() {
                    continue;
                }
                let Some(router) = route
                    .route_targets
                    .iter()
                    .find_map(|id| self.by_identifier.get(id))
                else {
                    continue;
                };
                routes
                    .entry(router.clone())
                    .or_default()
                    .entry(route.nlri.distinguisher)
                    .or_default()
                    .push(route);
            }
        }
        let mut book = self.book();
        book.routes = routes;
        book.listed = Some(started);
        Ok(())
    }
}

#[tonic::async_trait]
impl RouterDriver for BgpDriver {
    async fn provision(&self, sids: &pb::ProvisionSidsRequest) -> Result<(), DriverError> {
        self.book()
            .sids
            .insert(sids.router.clone(), sids.sids.clone());
        Ok(())
    }

    async fn apply(&self, router: &str, policy: &pb::SrPolicy) -> Result<u64, DriverError> {
        let headend = self.identifier(router)?;
        let _shared = self.gate.read().await;
        let asn = self.asn().await?;
        let route = path::encode(policy, headend, asn, &self.speaker.next_hop)
            .map_err(DriverError::refused)?;
        let nlri = Nlri::of(policy).map_err(DriverError::refused)?;
        let r = api::AddPathRequest {
            table_type: api::TableType::Global.into(),
            path: Some(route.clone()),
            ..Default::default()
        };
        self.client.clone().add_path(r).await?;
        // Made; now break: the same policy's routes under other NLRIs go.
        let old: Vec<Nlri> = self
            .book()
            .routes
            .get(router)
            .and_then(|r| r.get(&policy.distinguisher))
            .map(|rs| rs.iter().map(|r| r.nlri).filter(|n| *n != nlri).collect())
            .unwrap_or_default();
        for n in old {
            self.withdraw(n).await?;
        }
        let held = path::decode(&route, asn).expect("an encoded route decodes");
        let mut book = self.book();
        book.routes
            .entry(router.to_owned())
            .or_default()
            .insert(policy.distinguisher, vec![held]);
        book.names.insert(policy.name.clone(), policy.distinguisher);
        Ok(policy.version)
    }

    async fn remove(&self, router: &str, name: &str) -> Result<(), DriverError> {
        let _shared = self.gate.read().await;
        let nlris: Vec<Nlri> = {
            let book = self.book();
            let routes = book.routes.get(router);
            match (Nlri::from_name(name), book.names.get(name)) {
                (Some(nlri), _) => vec![nlri],
                (None, Some(d)) => routes
                    .and_then(|r| r.get(d))
                    .map(|rs| rs.iter().map(|r| r.nlri).collect())
                    .unwrap_or_default(),
                (None, None) => Vec::new(),
            }
        };
        for nlri in &nlris {
            self.withdraw(*nlri).await?;
        }
        let mut book = self.book();
        if let Some(routes) = book.routes.get_mut(router) {
            for nlri in &nlris {
                if let Some(rs) = routes.get_mut(&nlri.distinguisher) {
                    rs.retain(|r| r.nlri != *nlri);
                    if rs.is_empty() {
                        routes.remove(&nlri.distinguisher);
                    }
                }
            }
        }
        book.names.remove(name);
        Ok(())
    }

    async fn list(
        &self,
        router: &str,
        wanted: &BTreeMap<String, pb::SrPolicy>,
    ) -> Result<RouterState, DriverError> {
        self.identifier(router)?;
        self.refresh().await?;
        let by_distinguisher: HashMap<u32, (&String, &pb::SrPolicy)> = wanted
            .iter()
            .map(|(n, p)| (p.distinguisher, (n, p)))
            .collect();
        let mut book = self.book();
        let mut policies = Vec::new();
        let mut names = Vec::new();
        for (d, routes) in book.routes.get(router).into_iter().flatten() {
            match by_distinguisher.get(d) {
                Some((name, want)) => {
                    // A wanted policy's route: current when it is the only
                    // one and has the wanted NLRI; else its version is
                    // withheld so that it is pushed again (which withdraws
                    // the others).
                    let current =
                        routes.len() == 1 && Nlri::of(want).is_ok_and(|n| n == routes[0].nlri);
                    let route = &routes[0];
                    policies.push(pb::SrPolicy {
                        name: (*name).clone(),
                        version: if current {
                            route.version.unwrap_or(0)
                        } else {
                            0
                        },
                        ..route.policy.clone()
                    });
                    names.push(((*name).clone(), *d));
                }
                None => {
                    for route in routes {
                        policies.push(pb::SrPolicy {
                            name: route.nlri.name(),
                            version: route.version.unwrap_or(0),
                            ..route.policy.clone()
                        });
                    }
                }
            }
        }
        book.names.extend(names);
        Ok(RouterState {
            policies,
            sids: book.sids.get(router).cloned().unwrap_or_default(),
            known: true,
        })
    }

    async fn reports(&self, _router: &str) -> Result<Option<Reports>, DriverError> {
        // A speaker reports nothing of the headends' links.
        Ok(None)
    }
}
