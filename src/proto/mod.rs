//! The gRPC types and services generated from `proto/`: CPN's own
//! (`proto/cpn/v1/*.proto`) and the part of GoBGP's API CPN is a client of
//! (`proto/gobgp/apipb.proto`); and, in [`convert`], the one place that
//! converts between them and the domain.

pub mod convert;

/// Package `cpn.v1`: the northbound API.
#[allow(missing_docs, clippy::large_enum_variant)]
pub mod v1 {
    tonic::include_proto!("cpn.v1");
}

/// Package `apipb`: GoBGP's v3 API, as far as the BGP SR Policy driver
/// needs it.
#[allow(missing_docs, clippy::large_enum_variant)]
pub mod gobgp {
    tonic::include_proto!("apipb");
}

/// The encoded file descriptor set of every proto file, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("cpn_descriptor");
