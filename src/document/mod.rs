//! Documents exchanged with users (YAML/JSON): path requests and answers
//! (shared/spec/path-query.md), events, policies. Path requests with ids
//! are resolved against a topology into engine requests, and engine
//! answers are written back with ids.

mod answer;
mod request;

pub use answer::{AnswerJson, ErrorJson, PlacementJson, RejectionJson, answer_json, error_json};
pub use request::{
    ComputeDoc, ConstraintsDoc, DataDoc, MAX_REQUEST_BYTES, RequestDoc, parse_request, resolve,
};
