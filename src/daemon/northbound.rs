//! Serving the northbound API: every service of `cpn.v1` `cpnd` serves,
//! standard health checking and server reflection, on one listener until
//! shutdown.

use std::sync::Arc;
use std::time::Duration;

use tonic::server::NamedService;

use crate::api::Api;
use crate::api::access::Access;
use crate::controller::actor::ControllerHandle;
use crate::grpc::{MAX_MESSAGE_BYTES, ServeError, incoming};
use crate::metrics::Metrics;
use crate::proto::v1::bgp_ls_service_server::BgpLsServiceServer;
use crate::proto::v1::cluster_service_server::ClusterServiceServer;
use crate::proto::v1::compute_service_server::ComputeServiceServer;
use crate::proto::v1::path_service_server::PathServiceServer;
use crate::proto::v1::policy_service_server::PolicyServiceServer;
use crate::proto::v1::topology_service_server::TopologyServiceServer;
use crate::tls::ServerTls;

/// How the API is served: who may call, over what, for how long.
pub struct Options {
    /// The access rules (open, or an access file).
    pub access: Arc<Access>,
    /// TLS (`None`: plaintext).
    pub tls: Option<ServerTls>,
    /// Longest a call may take before it fails (tonic answers CANCELLED
    /// "Timeout expired"; a client's shorter `grpc-timeout` wins).
    pub call_timeout: Duration,
    /// The BGP-LS speaker's status, when there is one.
    pub bgp_ls: Option<crate::api::BgpLsStatus>,
    /// Where reports are noted for the reporters' watchdog.
    pub last_heard: crate::controller::freshness::LastHeard,
    /// The replication layer's status, when on etcd.
    pub cluster: crate::api::cluster::Cluster,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            access: Arc::new(Access::open()),
            tls: None,
            call_timeout: Duration::from_secs(30),
            bgp_ls: None,
            last_heard: Default::default(),
            cluster: None,
        }
    }
}

/// Serves the northbound API on `listener` until `shutdown` resolves; calls
/// in flight finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    controller: ControllerHandle,
    metrics: Arc<Metrics>,
    options: Options,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    // Streams (policy watches) end when shutdown begins, so that the
    // graceful shutdown, which waits for every call, does not wait forever.
    let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        let _ = stopping_tx.send(true);
    };
    let mut api = Api::new(controller, metrics, options.access)
        .with_stopping(stopping)
        .with_last_heard(options.last_heard);
    if let Some(status) = options.bgp_ls {
        api = api.with_bgp_ls(status);
    }
    if let Some(cluster) = options.cluster {
        api = api.with_cluster(cluster);
    }
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<TopologyServiceServer<Api>>()
        .await;
    health_reporter
        .set_serving::<PathServiceServer<Api>>()
        .await;
    health_reporter
        .set_serving::<PolicyServiceServer<Api>>()
        .await;
    health_reporter
        .set_serving::<BgpLsServiceServer<Api>>()
        .await;
    health_reporter
        .set_serving::<ComputeServiceServer<Api>>()
        .await;
    health_reporter
        .set_serving::<ClusterServiceServer<Api>>()
        .await;
    // Reflection lists exactly what is served (not the agents' services,
    // which share the descriptors), in both protocol versions: stock tools
    // (grpcurl up to 1.8, grpcio-reflection) still speak v1alpha.
    let served = [
        <TopologyServiceServer<Api> as NamedService>::NAME,
        <PathServiceServer<Api> as NamedService>::NAME,
        <PolicyServiceServer<Api> as NamedService>::NAME,
        <BgpLsServiceServer<Api> as NamedService>::NAME,
        <ComputeServiceServer<Api> as NamedService>::NAME,
        <ClusterServiceServer<Api> as NamedService>::NAME,
        <tonic_health::pb::health_server::HealthServer<tonic_health::server::HealthService> as NamedService>::NAME,
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ];
    let reflection = || {
        served.iter().fold(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
            |b, name| b.with_service_name(*name),
        )
    };
    let reflection_v1 = reflection()
        .build_v1()
        .expect("the embedded descriptors are valid");
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .expect("the embedded descriptors are valid");
    let mut builder = tonic::transport::Server::builder().timeout(options.call_timeout);
    if let Some(tls) = &options.tls {
        builder = builder.tls_config(tls.config()?)?;
    }
    builder
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(
            TopologyServiceServer::new(api.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            PathServiceServer::new(api.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(BgpLsServiceServer::new(api.clone()))
        .add_service(ComputeServiceServer::new(api.clone()))
        .add_service(ClusterServiceServer::new(api.clone()))
        .add_service(
            PolicyServiceServer::new(api)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .serve_with_incoming_shutdown(incoming(listener), shutdown)
        .await?;
    Ok(())
}
