//! TLS for every gRPC hop (rustls, through tonic): the northbound API
//! (`cpnd` <- `cpnctl` and OSS clients) and the southbound (`cpnd` ->
//! `cpn-router`). PEM files in, tonic configurations out; errors name the
//! file. A server with a client CA requires client certificates signed by it
//! (mutual TLS).

use std::path::{Path, PathBuf};

use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

/// A certificate and its private key (PEM files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPair {
    /// The certificate (chain), PEM.
    pub cert: PathBuf,
    /// Its private key, PEM.
    pub key: PathBuf,
}

/// A server's TLS: its identity, and the CA of the clients it requires
/// (mutual TLS) if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTls {
    /// The server's certificate and key.
    pub identity: KeyPair,
    /// Clients must present a certificate signed by this CA.
    pub client_ca: Option<PathBuf>,
}

/// A client's TLS: the CA that signed the server's certificate, and the
/// client's own identity for mutual TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientTls {
    /// The CA the server's certificate must chain to.
    pub ca: PathBuf,
    /// The client's certificate and key, for servers that require one.
    pub identity: Option<KeyPair>,
}

/// Why TLS material cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(pub String);

fn read(path: &Path, what: &str) -> Result<Vec<u8>, TlsError> {
    let bytes =
        std::fs::read(path).map_err(|e| TlsError(format!("{what} {}: {e}", path.display())))?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(TlsError(format!(
            "{what} {}: not PEM (no -----BEGIN line)",
            path.display()
        )));
    }
    Ok(bytes)
}

fn identity(k: &KeyPair) -> Result<Identity, TlsError> {
    Ok(Identity::from_pem(
        read(&k.cert, "certificate")?,
        read(&k.key, "private key")?,
    ))
}

impl KeyPair {
    /// Both files, or neither; `what` names the options in the error.
    pub fn from_options(
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
        what: &str,
    ) -> Result<Option<KeyPair>, TlsError> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(KeyPair { cert, key })),
            (None, None) => Ok(None),
            _ => Err(TlsError(format!(
                "{what}: give both the certificate and the key"
            ))),
        }
    }
}

impl ServerTls {
    /// The tonic configuration.
    pub fn config(&self) -> Result<ServerTlsConfig, TlsError> {
        let mut c = ServerTlsConfig::new().identity(identity(&self.identity)?);
        if let Some(ca) = &self.client_ca {
            c = c.client_ca_root(Certificate::from_pem(read(ca, "client CA")?));
        }
        Ok(c)
    }

    /// How it reads in a log line.
    pub fn describe(&self) -> &'static str {
        if self.client_ca.is_some() {
            "TLS, client certificates required (mutual TLS)"
        } else {
            "TLS"
        }
    }
}

impl ClientTls {
    /// The tonic configuration for a server whose certificate names `host`.
    pub fn config(&self, host: &str) -> Result<ClientTlsConfig, TlsError> {
        let mut c = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(read(&self.ca, "CA")?))
            .domain_name(host);
        if let Some(k) = &self.identity {
            c = c.identity(identity(k)?);
        }
        Ok(c)
    }
}

/// The host part of `host:port` (brackets of an IPv6 literal removed).
pub fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}
