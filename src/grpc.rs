//! gRPC server plumbing shared by every server CPN runs (the controller's
//! API, the router agents): accepted connections without Nagle's delay, the
//! message size limit, and the error of a server that could not serve.

use tokio_stream::wrappers::TcpListenerStream;

use crate::tls::TlsError;

/// Largest gRPC message accepted or sent (a 10,000-router topology
/// document fits).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

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

/// Why a gRPC server could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The TLS files.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The transport.
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
}
