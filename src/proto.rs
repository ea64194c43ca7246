//! The gRPC types and services generated from `proto/cpn/v1/*.proto`.

#![allow(missing_docs, clippy::large_enum_variant)]

/// Package `cpn.v1`: the northbound API.
pub mod v1 {
    tonic::include_proto!("cpn.v1");
}

/// The encoded file descriptor set of every proto file, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("cpn_descriptor");
