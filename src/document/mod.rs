//! Documents exchanged with users (YAML/JSON): path requests and answers
//! (shared/spec/path-query.md), events, policies. Path requests with ids
//! are resolved against a topology into engine requests, and engine
//! answers are written back with ids.

mod answer;
mod event;
mod field;
mod numbers;
mod policy;
mod report;
mod request;

pub use answer::{
    AnswerJson, COMPRESSION_NEXT_CSID, ErrorJson, MetricsJson, PlacementJson, RejectionJson,
    SegmentJson, answer_json, error_json, placement_json, rejections_json,
};
pub use event::{EventDoc, EventForm, SetLinkDoc, SetPoolDoc, parse_event};
pub use field::FieldError;
pub use numbers::{amount, rfc3339, thousands};
pub use policy::{PolicyJson, SrPolicyJson};
pub use report::{DEFAULT_REPORT_INTERVAL_S, PoolReportDoc, ReporterSilentDoc};
pub use request::{
    CompressionDoc, ComputeDoc, ConstraintsDoc, DataDoc, MAX_REQUEST_BYTES, RequestDoc,
    parse_request, resolve,
};
