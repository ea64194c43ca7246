//! What the daemons (`cpnd`, `cpn-router`) share: log set-up, the TLS
//! options of their gRPC servers, and the shutdown signal.

use std::path::PathBuf;

use crate::tls::{KeyPair, ServerTls, TlsError};

/// TLS of a daemon's gRPC server.
#[derive(Debug, Clone, clap::Args)]
pub struct TlsArgs {
    /// TLS certificate (PEM) of the server; with --tls-key.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) of the server.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Require clients to show a certificate signed by this CA (mutual TLS).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

impl TlsArgs {
    /// The server's TLS (`None`: plaintext), its files read now so that a
    /// bad one stops the daemon at start, not at the first call.
    pub fn server_tls(&self) -> Result<Option<ServerTls>, TlsError> {
        let Some(identity) = KeyPair::from_options(
            self.tls_cert.clone(),
            self.tls_key.clone(),
            "--tls-cert/--tls-key",
        )?
        else {
            return Ok(None);
        };
        let tls = ServerTls {
            identity,
            client_ca: self.tls_client_ca.clone(),
        };
        tls.config()?;
        Ok(Some(tls))
    }
}

/// How daemons write their logs (to stderr).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Logs to stderr at `RUST_LOG` (default `info`).
pub fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Resolves when SIGINT or SIGTERM arrives.
pub async fn signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

/// Writes a daemon's bound address to `file` (whole or not at all: written
/// aside, then renamed), so that whoever started it with port 0 can read
/// which port it got.
pub fn write_address_file(
    file: &std::path::Path,
    addr: std::net::SocketAddr,
) -> std::io::Result<()> {
    let aside = file.with_extension("tmp");
    std::fs::write(&aside, format!("{addr}\n"))?;
    std::fs::rename(&aside, file)
}
