//! The gRPC server: every service, standard health checking and server
//! reflection, served on a listener until shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio_stream::wrappers::TcpListenerStream;

use super::Api;
use super::access::Access;
use crate::controller::actor::ControllerHandle;
use crate::metrics::Metrics;
use crate::proto::v1::path_service_server::PathServiceServer;
use crate::proto::v1::policy_service_server::PolicyServiceServer;
use crate::proto::v1::topology_service_server::TopologyServiceServer;
use crate::tls::{ServerTls, TlsError};

/// Accepted connections with Nagle's algorithm off: small replies must not
/// wait for the peer's delayed ACK (40 ms a call otherwise).
pub fn incoming(
    listener: tokio::net::TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt;
    TcpListenerStream::new(listener).map(|conn| {
        let conn = conn?;
        conn.set_nodelay(true)?;
        Ok(conn)
    })
}

/// Largest gRPC message accepted (a 10,000-router topology document fits).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// How the API is served: who may call, over what, for how long.
pub struct Options {
    /// The access rules (open, or an access file).
    pub access: Arc<Access>,
    /// TLS (`None`: plaintext).
    pub tls: Option<ServerTls>,
    /// Longest a call may take before it fails with DEADLINE_EXCEEDED (a
    /// client's shorter `grpc-timeout` wins).
    pub call_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            access: Arc::new(Access::open()),
            tls: None,
            call_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves the open, plaintext API on `listener` until `shutdown` resolves
/// (tests and loopback demos).
pub async fn serve(
    listener: tokio::net::TcpListener,
    controller: ControllerHandle,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    serve_with(listener, controller, metrics, Options::default(), shutdown).await
}

/// Why the API could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The TLS files.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The transport.
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
}

/// Serves the northbound API on `listener` until `shutdown` resolves; calls
/// in flight finish first.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    controller: ControllerHandle,
    metrics: Arc<Metrics>,
    options: Options,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let api = Api::new(controller, metrics, options.access);
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
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .expect("the embedded descriptors are valid");
    let mut builder = tonic::transport::Server::builder().timeout(options.call_timeout);
    if let Some(tls) = &options.tls {
        builder = builder.tls_config(tls.config()?)?;
    }
    builder
        .add_service(health)
        .add_service(reflection)
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
        .add_service(
            PolicyServiceServer::new(api)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .serve_with_incoming_shutdown(incoming(listener), shutdown)
        .await?;
    Ok(())
}
