//! The northbound gRPC API (tonic): handlers, proto <-> model conversion,
//! and errors mapped to gRPC status codes once.

pub mod convert;
pub mod topology;
