//! The southbound protocol: the controller's desired state (local SIDs, SR
//! policies) as `cpn.v1` router messages.

use super::behavior;
use crate::controller::outbox::{RouterSids, SrPolicy};
use crate::model::{Behavior, SidStructure};
use crate::proto::v1 as pb;

/// The behavior of a proto value, `None` when it is none CPN knows.
pub fn behavior_from_pb(v: i32) -> Option<Behavior> {
    match pb::SidBehavior::try_from(v) {
        Ok(pb::SidBehavior::End) => Some(Behavior::End),
        Ok(pb::SidBehavior::EndX) => Some(Behavior::EndX),
        Ok(pb::SidBehavior::EndDt6) => Some(Behavior::EndDt6),
        _ => None,
    }
}

fn structure_to_pb(s: SidStructure) -> pb::SidStructure {
    pb::SidStructure {
        locator_block_bits: u32::from(s.block_bits),
        locator_node_bits: u32::from(s.node_bits),
        function_bits: u32::from(s.function_bits),
        argument_bits: u32::from(s.argument_bits),
    }
}

/// An SR policy as the southbound protocol carries it.
pub fn sr_policy_to_pb(p: &SrPolicy) -> pb::SrPolicy {
    pb::SrPolicy {
        name: p.name.clone(),
        color: p.color,
        endpoint: p.endpoint.to_string(),
        destination: p.destination.to_string(),
        segments: p
            .segments
            .iter()
            .map(|s| pb::PolicySegment {
                sid: s.sid.to_string(),
                behavior: behavior(s.behavior).into(),
                structure: s.structure.map(structure_to_pb),
            })
            .collect(),
        binding_sid: p.binding_sid.to_string(),
        preference: p.preference,
        version: p.version,
        distinguisher: p.distinguisher,
        encapsulation: if p.reduced {
            pb::Encapsulation::HEncapsRed
        } else {
            pb::Encapsulation::Unspecified
        }
        .into(),
    }
}

/// A router's local SIDs as the southbound protocol provisions them.
pub fn local_sids_to_pb(r: &RouterSids) -> pb::ProvisionSidsRequest {
    pb::ProvisionSidsRequest {
        router: r.router.clone(),
        locator: r.locator.to_string(),
        msd: u32::from(r.msd),
        sids: r
            .sids
            .iter()
            .map(|s| {
                let (link, neighbor) = s.adjacency.clone().unwrap_or_default();
                let flavored = s.csid.is_some() && s.behavior != Behavior::EndDt6;
                pb::LocalSid {
                    sid: s.sid.to_string(),
                    behavior: behavior(s.behavior).into(),
                    link,
                    neighbor,
                    datacenter: s.datacenter.clone().unwrap_or_default(),
                    flavors: if flavored {
                        vec![pb::SidFlavor::NextCsid.into()]
                    } else {
                        Vec::new()
                    },
                    structure: s.csid.map(|b| pb::SidStructure {
                        locator_block_bits: u32::from(b.lbl()),
                        locator_node_bits: u32::from(b.lnfl),
                        function_bits: 0,
                        argument_bits: u32::from(128 - b.lbl() - b.lnfl),
                    }),
                }
            })
            .collect(),
        csid_block: r
            .csid_block
            .map(|b| b.block.to_string())
            .unwrap_or_default(),
    }
}
