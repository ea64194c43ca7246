//! `cpn.v1.BgpLsService`: the BGP-LS speaker's status. The status is the
//! speaker's (a services-layer type), so its proto form is made here, next
//! to the one handler that serves it, rather than in `proto::convert`.

use tonic::{Request, Response, Status};

use super::Api;
use super::access::Action;
use crate::bgp_ls::status::Status as Speaker;
use crate::proto::v1 as pb;
use crate::proto::v1::bgp_ls_service_server::BgpLsService;

#[tonic::async_trait]
impl BgpLsService for Api {
    async fn get_bgp_ls_status(
        &self,
        request: Request<pb::GetBgpLsStatusRequest>,
    ) -> Result<Response<pb::GetBgpLsStatusResponse>, Status> {
        self.read(
            "GetBgpLsStatus",
            Action::ReadTopology,
            request,
            |_, _| async move {
                Ok(match &self.bgp_ls {
                    Some(rx) => status(&rx.borrow()),
                    None => pb::GetBgpLsStatusResponse::default(),
                })
            },
        )
        .await
    }
}

/// The status as proto.
pub fn status(s: &Speaker) -> pb::GetBgpLsStatusResponse {
    let origin = |(id, source): (&String, &crate::bgp_ls::status::Source)| pb::BgpLsOrigin {
        id: id.clone(),
        source: source.to_string(),
    };
    pb::GetBgpLsStatusResponse {
        enabled: true,
        listen: s.listen.clone(),
        asn: s.asn,
        bgp_id: s.bgp_id.map(|a| a.to_string()).unwrap_or_default(),
        synced: s.synced,
        peers: s
            .peers
            .iter()
            .map(|p| pb::BgpLsPeer {
                peer: p.peer.clone(),
                state: p.state.clone(),
                asn: p.asn.unwrap_or_default(),
                bgp_id: p.bgp_id.map(|a| a.to_string()).unwrap_or_default(),
                hold_time: u32::from(p.hold_time),
                synced: p.synced,
                nodes: p.nodes as u64,
                links: p.links as u64,
                prefixes: p.prefixes as u64,
                srv6_sids: p.srv6_sids as u64,
                other: p.other as u64,
                counters: Some(pb::BgpLsCounters {
                    updates: p.counters.updates,
                    announced: p.counters.announced,
                    withdrawn: p.counters.withdrawn,
                    unknown_tlvs: p.counters.unknown_tlvs,
                    malformed_tlvs: p.counters.malformed_tlvs,
                    unknown_nlri: p.counters.unknown_nlri,
                    attributes_discarded: p.counters.attributes_discarded,
                    treated_as_withdraw: p.counters.treated_as_withdraw,
                    end_of_rib: p.counters.end_of_rib,
                }),
                established_unix_ms: p.established_unix_ms,
                last_update_unix_ms: p.last_update_unix_ms,
                last_error: p.last_error.clone(),
            })
            .collect(),
        routers: s.routers.iter().map(origin).collect(),
        links: s.links.iter().map(origin).collect(),
        event_batches: s.event_batches,
        events: s.events,
        rebuilds: s.rebuilds,
        last_apply_unix_ms: s.last_apply_unix_ms,
        last_apply: s.last_apply.clone(),
        problems: s.problems.clone(),
    }
}
