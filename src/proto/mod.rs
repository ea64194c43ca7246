//! The gRPC types and services generated from `proto/`: CPN's own
//! (`proto/cpn/v1/*.proto`) and the part of GoBGP's API CPN is a client of
//! (`proto/gobgp/apipb.proto`) and of etcd's v3 API (`proto/etcd/`); and, in [`convert`], the one place that
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

/// etcd's v3 API (`proto/etcd/`), a client for the etcd store and leader
/// election: packages `etcdserverpb`, `mvccpb`, `authpb`, `v3electionpb`.
#[allow(
    missing_docs,
    clippy::large_enum_variant,
    clippy::doc_lazy_continuation
)]
pub mod etcd {
    /// Package `etcdserverpb`: KV, Watch, Lease, Cluster, Maintenance, Auth.
    pub mod etcdserverpb {
        tonic::include_proto!("etcdserverpb");
    }
    /// Package `mvccpb`: key-values and watch events.
    pub mod mvccpb {
        tonic::include_proto!("mvccpb");
    }
    /// Package `authpb`: users and roles.
    pub mod authpb {
        tonic::include_proto!("authpb");
    }
    /// Package `v3electionpb`: the Election service (CPN elects with its own
    /// leader key instead, see `ha::election`).
    pub mod v3electionpb {
        tonic::include_proto!("v3electionpb");
    }
}

/// The encoded file descriptor set of every proto file, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("cpn_descriptor");
