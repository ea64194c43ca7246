//! Path queries as documents (shared/spec/path-query.md): the YAML/JSON
//! request with ids, resolved against a topology into an engine request; and
//! engine answers written back as the JSON answer with ids.

mod answer;
mod request;

pub use answer::{AnswerJson, ErrorJson, PlacementJson, RejectionJson, answer_json, error_json};
pub use request::{
    ComputeDoc, ConstraintsDoc, DataDoc, MAX_REQUEST_BYTES, RequestDoc, parse_request, resolve,
};
