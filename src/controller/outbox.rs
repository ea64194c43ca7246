//! What the controller tells the routers, and what it hears back, in the
//! domain's own terms. The controller task writes desired state to its
//! outbox (each router's local SIDs, each policy's SR policy at its
//! headend); whatever pushes it to routers (the southbound) reads the
//! outbox, converts to its own protocol, and answers through one ordered
//! feedback channel (a policy's push status, a router's report).
//!
//! The controller knows nothing of who reads the outbox or how: no proto
//! and no driver types come through here.

use std::net::Ipv6Addr;

use ipnetwork::Ipv6Network;
use tokio::sync::mpsc;

use super::Southbound;
use crate::document::EventDoc;
use crate::model::{Behavior, CsidBlock, SidStructure};

/// Desired state for the routers, in the order the controller decided it.
#[derive(Clone, Debug, PartialEq)]
pub enum Desired {
    /// A router, its agent's address (if it has one) and its local SIDs.
    Router(RouterSids),
    /// Everything the routers should hold has been sent once (at start,
    /// and after a topology replacement): readers may now reconcile, and
    /// take away what is not wanted.
    Synced,
    /// This controller stopped leading (replicas on etcd): readers stop
    /// pushing and forget what they were told; a takeover later tells them
    /// everything again.
    Standby,
    /// A policy was removed: whichever router holds it drops it.
    Removed {
        /// Policy name.
        name: String,
    },
    /// A policy's desired state at its headend.
    Policy {
        /// Headend router id.
        headend: String,
        /// Policy name.
        name: String,
        /// The policy's version (its status is reported for it).
        version: u64,
        /// The SR policy; `None`: the headend should not hold it (the
        /// policy is down).
        policy: Option<SrPolicy>,
    },
}

/// A router's local SIDs and the facts a data plane needs about it.
#[derive(Clone, Debug, PartialEq)]
pub struct RouterSids {
    /// Router id.
    pub router: String,
    /// Its agent's address `host:port`, when it has one.
    pub mgmt: Option<String>,
    /// Its locator.
    pub locator: Ipv6Network,
    /// Its maximum SID depth.
    pub msd: u8,
    /// Its local SIDs, by address.
    pub sids: Vec<LocalSid>,
    /// Its NEXT-C-SID block, when it takes micro-SIDs.
    pub csid_block: Option<CsidBlock>,
}

impl RouterSids {
    /// The same, SIDs in address order (as provisioned).
    pub fn sorted(mut self) -> Self {
        self.sids.sort_by_key(|s| s.sid);
        self
    }
}

/// One local SID of a router.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalSid {
    /// The SID.
    pub sid: Ipv6Addr,
    /// Its behavior.
    pub behavior: Behavior,
    /// End.X: the link it crosses, and the neighbor at the other end.
    pub adjacency: Option<(String, String)>,
    /// End.DT6 of a data center: the data center (`None` for the router's
    /// own End.DT6 and for other behaviors).
    pub datacenter: Option<String>,
    /// For a micro-SID: the block it lies in (its route covers the block
    /// and LNFL bits; End and End.X get the NEXT-C-SID flavor).
    pub csid: Option<CsidBlock>,
}

/// An SR policy as a headend holds it (RFC 9256 terms): steer traffic to
/// `destination` onto `segments`.
#[derive(Clone, Debug, PartialEq)]
pub struct SrPolicy {
    /// The CPN policy's name.
    pub name: String,
    /// The intent (objective and protection).
    pub color: u32,
    /// The endpoint: the End SID of the router where the path ends.
    pub endpoint: Ipv6Addr,
    /// The prefix steered into the policy.
    pub destination: Ipv6Network,
    /// The segment list, in the order the packet visits them.
    pub segments: Vec<PolicySegment>,
    /// The binding SID at the headend.
    pub binding_sid: Ipv6Addr,
    /// Candidate path preference.
    pub preference: u32,
    /// The policy's version.
    pub version: u64,
    /// Unique per policy and fixed for its life (RFC 9830 2.1).
    pub distinguisher: u32,
    /// H.Encaps.Red (compressed lists): the first entry only in the
    /// destination address.
    pub reduced: bool,
}

/// One segment of an SR policy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolicySegment {
    /// The SID.
    pub sid: Ipv6Addr,
    /// Its behavior at the router that owns it.
    pub behavior: Behavior,
    /// Its structure, when the SID is one of the topology's.
    pub structure: Option<SidStructure>,
}

/// Where the controller task writes desired state.
pub type Outbox = mpsc::UnboundedSender<Desired>;

/// What the readers of the outbox tell the controller.
#[derive(Clone, Debug, PartialEq)]
pub enum Feedback {
    /// A policy's southbound status, for one version (news of an older
    /// version is ignored).
    Status {
        /// Policy name.
        name: String,
        /// The version the status is about.
        version: u64,
        /// The status.
        southbound: Southbound,
    },
    /// A router reported a change of the network (a link down, new
    /// metrics): an event like any other.
    Report {
        /// The reporting router.
        router: String,
        /// What changed.
        event: EventDoc,
    },
}

/// Where readers send feedback: one channel, so feedback is handled in the
/// order it was sent. Sending never blocks; it is dropped once the
/// controller has stopped.
#[derive(Clone, Debug)]
pub struct FeedbackSender(pub(super) mpsc::UnboundedSender<Feedback>);

impl FeedbackSender {
    /// Sends one piece of feedback.
    pub fn send(&self, feedback: Feedback) {
        // A stopped controller hears nothing more; nothing to do.
        let _ = self.0.send(feedback);
    }

    /// A sender whose feedback lands in the returned receiver (tests, and
    /// readers run without a controller).
    pub fn channel() -> (FeedbackSender, mpsc::UnboundedReceiver<Feedback>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (FeedbackSender(tx), rx)
    }
}
