//! Proto <-> domain conversions, in one place: the API handlers, the
//! command line, the southbound and the agents all convert here, and proto
//! types never enter the model, the engine or the controller. Proto values a
//! document cannot hold (an enum number out of range, a missing field) are
//! refused with the field at fault.

mod answer;
mod compute;
mod event;
mod policy;
mod request;
mod router;
mod topology;

pub use answer::{
    answer_from_pb, answer_to_pb, no_placement_to_pb, placement_from_pb, placement_to_pb,
    rejections_from_pb,
};
pub use compute::{
    health_from_pb, health_to_pb, report_from_pb, report_to_pb, reporter_state_to_pb,
    reporter_to_pb,
};
pub use event::{event_from_pb, event_to_pb};
pub use policy::{change_to_pb, policy_from_pb, policy_to_pb};
pub use request::{request_from_pb, request_to_pb};
pub use router::{behavior_from_pb, local_sids_to_pb, sr_policy_to_pb};
pub use topology::{behavior, pool_kind, pool_kind_from, pool_kind_of, topology};
