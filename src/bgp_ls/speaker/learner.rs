//! The learner: one task that owns the RIB. Connections send it what their
//! sessions say; every batch window it turns a changed RIB into model
//! changes through the controller handle (events, or a rebuilt topology),
//! and publishes the status.
//!
//! Nothing learned is applied before the RIB is ready (every session up
//! has a complete table: End-of-RIB, or no UPDATE for the quiet period), so
//! no policy is ever checked against half a table. Heavy work (learning,
//! building a 10,000-router topology) runs on the blocking pool.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};

use super::connection::Control;
use super::{Config, Msg, stopped};
use crate::bgp_ls::merge::{self, Change, Learned};
use crate::bgp_ls::rib::Rib;
use crate::bgp_ls::session::Peer;
use crate::bgp_ls::status::{PeerStatus, Source, Status};
use crate::controller::actor::ControllerHandle;
use crate::topology_file::business::Business;

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

struct Conn {
    peer: String,
    control: mpsc::Sender<Control>,
    state: &'static str,
}

#[derive(Default)]
struct PeerMeta {
    info: Option<Peer>,
    established_unix_ms: u64,
    last_update_unix_ms: u64,
    last_activity: Option<Instant>,
    last_error: String,
}

pub(super) struct Learner {
    config: Config,
    business: Arc<Business>,
    handle: ControllerHandle,
    rib: Rib,
    applied: Option<Learned>,
    conns: HashMap<u64, Conn>,
    /// The established connection of each peer.
    current: HashMap<String, u64>,
    meta: BTreeMap<String, PeerMeta>,
    dirty: bool,
    /// The last apply failed: learn everything next time.
    full_next: bool,
    status: Status,
    status_tx: watch::Sender<Arc<Status>>,
}

impl Learner {
    pub(super) fn new(
        config: Config,
        business: Arc<Business>,
        handle: ControllerHandle,
        status_tx: watch::Sender<Arc<Status>>,
        listen: String,
    ) -> Self {
        let mut status = Status {
            listen,
            asn: config.session.asn,
            bgp_id: Some(config.session.bgp_id),
            ..Default::default()
        };
        status.routers = Arc::new(
            business
                .doc
                .routers
                .iter()
                .map(|r| (r.id.clone(), Source::File))
                .collect(),
        );
        status.links = Arc::new(
            business
                .doc
                .links
                .iter()
                .map(|l| {
                    let id = l.id.clone().unwrap_or_else(|| format!("{}-{}", l.a, l.b));
                    (id, Source::File)
                })
                .collect(),
        );
        Learner {
            config,
            business,
            handle,
            rib: Rib::new(),
            applied: None,
            conns: HashMap::new(),
            current: HashMap::new(),
            meta: BTreeMap::new(),
            dirty: false,
            full_next: false,
            status,
            status_tx,
        }
    }

    pub(super) async fn run(
        mut self,
        mut rx: mpsc::Receiver<Msg>,
        mut stop: watch::Receiver<bool>,
    ) {
        self.publish();
        let mut tick = tokio::time::interval(self.config.batch);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(m) => self.take(m),
                    None => return,
                },
                _ = tick.tick() => self.on_tick().await,
                () = stopped(&mut stop) => return,
            }
        }
    }

    fn take(&mut self, m: Msg) {
        match m {
            Msg::Connected {
                conn,
                peer,
                control,
            } => {
                self.meta.entry(peer.clone()).or_default();
                self.conns.insert(
                    conn,
                    Conn {
                        peer,
                        control,
                        state: "OpenSent",
                    },
                );
            }
            Msg::Up { conn, peer: info } => {
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                c.state = "Established";
                let peer = c.peer.clone();
                if let Some(old) = self.current.insert(peer.clone(), conn)
                    && let Some(o) = self.conns.get(&old)
                {
                    // The newer connection of a peer wins (the old one is
                    // likely dead on the peer's side).
                    let _ = o.control.try_send(Control::Cease(
                        7,
                        "a newer connection of the same peer".into(),
                    ));
                    self.rib.session_down(&peer);
                }
                self.rib.session_up(&peer);
                let m = self.meta.entry(peer).or_default();
                m.info = Some(info);
                m.established_unix_ms = unix_ms();
                m.last_activity = Some(Instant::now());
            }
            Msg::Update { conn, update } => {
                let Some(peer) = self.established(conn) else {
                    return;
                };
                let m = self.meta.entry(peer.clone()).or_default();
                m.last_update_unix_ms = unix_ms();
                m.last_activity = Some(Instant::now());
                if update.end_of_rib {
                    info!(%peer, "BGP-LS End-of-RIB");
                }
                self.dirty |= self.rib.apply(&peer, &update);
            }
            Msg::Down { conn, reason } => {
                let Some(c) = self.conns.remove(&conn) else {
                    return;
                };
                let m = self.meta.entry(c.peer.clone()).or_default();
                m.last_error = reason;
                if self.current.get(&c.peer) == Some(&conn) {
                    self.current.remove(&c.peer);
                    self.rib.session_down(&c.peer);
                    // A peer that never completed a table may have held the
                    // network back.
                    self.dirty = true;
                }
            }
        }
    }

    /// The peer of an established, current connection.
    fn established(&self, conn: u64) -> Option<String> {
        let c = self.conns.get(&conn)?;
        (self.current.get(&c.peer) == Some(&conn)).then(|| c.peer.clone())
    }

    async fn on_tick(&mut self) {
        let now = Instant::now();
        let quiet: Vec<String> = self
            .current
            .keys()
            .filter(|p| {
                self.meta
                    .get(*p)
                    .and_then(|m| m.last_activity)
                    .is_some_and(|t| now.duration_since(t) >= self.config.eor_timeout)
            })
            .cloned()
            .collect();
        for peer in quiet {
            if self.rib.assume_synced(&peer) {
                warn!(%peer, timeout = ?self.config.eor_timeout, "no End-of-RIB: the table is taken as complete after a quiet period");
                self.dirty = true;
            }
        }
        if self.dirty && self.rib.ready() {
            self.dirty = false;
            self.apply().await;
        }
        self.publish();
    }

    /// Learns from the RIB and brings the model along.
    async fn apply(&mut self) {
        let started = Instant::now();
        let mut rib = std::mem::take(&mut self.rib);
        let changes = rib.take_changes();
        let full = std::mem::take(&mut self.full_next) || changes.structural;
        let business = self.business.clone();
        let old = self.applied.take();
        let learned = tokio::task::spawn_blocking(move || {
            // Only link attributes moved: those links alone, in place.
            match old {
                Some(mut o) if !full => {
                    let before = o.links.len();
                    match merge::relearn_links(&rib, &business, &mut o, &changes.links) {
                        Some(events) if o.links.len() == before => {
                            let change = if events.is_empty() {
                                Change::Same
                            } else {
                                Change::Events(events)
                            };
                            (rib, None, o, change, true)
                        }
                        _ => full_way(rib, &business, Some(o)),
                    }
                }
                old => full_way(rib, &business, old),
            }
        })
        .await;
        let (rib, old, next, change, fast) = match learned {
            Ok(x) => x,
            Err(e) => {
                error!(error = %e, "learning from BGP-LS failed");
                return;
            }
        };
        self.rib = rib;
        let mut problems = next.problems.clone();
        let outcome = match change {
            Change::Same => Ok("nothing changed in the model".to_owned()),
            Change::Events(events) => {
                let n = events.len();
                match self.handle.events(events).await {
                    Ok(Ok(changed)) => {
                        self.status.event_batches += 1;
                        self.status.events += n as u64;
                        Ok(format!(
                            "{n} events, {} policies changed",
                            changed.affected.len()
                        ))
                    }
                    Ok(Err(e)) => {
                        warn!(error = %e, "learned events refused; rebuilding the topology instead");
                        self.rebuild(&next, &mut problems).await
                    }
                    Err(_) => return,
                }
            }
            Change::Rebuild => self.rebuild(&next, &mut problems).await,
        };
        match outcome {
            Ok(what) => {
                info!(
                    routers = next.routers.len(),
                    links = next.links.len(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    what,
                    "BGP-LS network applied"
                );
                self.status.synced = true;
                self.status.last_apply_unix_ms = unix_ms();
                self.status.last_apply = what;
                if !fast {
                    let mut routers: BTreeMap<String, Source> = (*self.status.routers).clone();
                    let mut links: BTreeMap<String, Source> = (*self.status.links).clone();
                    routers.retain(|_, s| *s == Source::File);
                    links.retain(|_, s| *s == Source::File);
                    for (id, r) in &next.routers {
                        routers.insert(id.clone(), Source::BgpLs(r.source.clone()));
                    }
                    for (id, l) in &next.links {
                        links.insert(id.clone(), Source::BgpLs(l.source.clone()));
                    }
                    self.status.routers = Arc::new(routers);
                    self.status.links = Arc::new(links);
                }
                self.applied = Some(next);
            }
            Err(why) => {
                error!(
                    error = why,
                    "the learned network could not be applied; the model keeps the last one"
                );
                problems.push(format!("not applied: {why}"));
                self.applied = old;
            }
        }
        self.status.problems = problems;
    }

    /// Builds the topology of `next` and replaces the controller's.
    async fn rebuild(
        &mut self,
        next: &Learned,
        problems: &mut Vec<String>,
    ) -> Result<String, String> {
        let live = self.handle.topology().await.map_err(|e| e.to_string())?;
        let business = self.business.clone();
        let learned = next.clone();
        let built =
            tokio::task::spawn_blocking(move || merge::build(&learned, &business, Some(&live)))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
        problems.extend(built.notes);
        let t = &built.topology;
        let what = format!(
            "topology rebuilt: {} routers, {} links, {} data centers",
            t.router_count(),
            t.link_count(),
            t.datacenters().len()
        );
        match self.handle.replace(built.topology).await {
            Ok(Ok(changed)) => {
                self.status.rebuilds += 1;
                Ok(format!("{what}; {} policies changed", changed.len()))
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn publish(&mut self) {
        let mut peers = Vec::new();
        for (name, m) in &self.meta {
            let p = self.rib.peers().get(name);
            let state = match self.current.get(name) {
                Some(_) => "Established",
                None => self
                    .conns
                    .values()
                    .filter(|c| c.peer == *name)
                    .map(|c| c.state)
                    .next()
                    .unwrap_or("Idle"),
            };
            let table = p.map(|p| &p.table);
            peers.push(PeerStatus {
                peer: name.clone(),
                state: state.to_owned(),
                asn: m.info.as_ref().map(|i| i.asn),
                bgp_id: m.info.as_ref().map(|i| i.bgp_id),
                hold_time: m.info.as_ref().map_or(0, |i| i.hold_time),
                synced: p.is_some_and(|p| p.synced),
                nodes: table.map_or(0, |t| t.nodes.len()),
                links: table.map_or(0, |t| t.links.len()),
                prefixes: table.map_or(0, |t| t.prefixes.len()),
                srv6_sids: table.map_or(0, |t| t.sids.len()),
                other: table.map_or(0, |t| t.other.len()),
                counters: p.map(|p| p.counters).unwrap_or_default(),
                established_unix_ms: m.established_unix_ms,
                last_update_unix_ms: m.last_update_unix_ms,
                last_error: m.last_error.clone(),
            });
        }
        self.status.peers = peers;
        // The source maps are shared, not copied: a snapshot is cheap.
        self.status_tx.send_replace(Arc::new(self.status.clone()));
    }
}

/// Learns everything from `rib` and compares with `old`.
fn full_way(
    rib: Rib,
    business: &Business,
    old: Option<Learned>,
) -> (Rib, Option<Learned>, Learned, Change, bool) {
    let mut next = merge::learn(&rib, business);
    let change = match &old {
        Some(o) => {
            merge::carry_over(&mut next, o);
            merge::diff(o, &next)
        }
        None => Change::Rebuild,
    };
    (rib, old, next, change, false)
}

/// How long a batch window is by default.
pub(super) const BATCH: Duration = Duration::from_millis(100);
