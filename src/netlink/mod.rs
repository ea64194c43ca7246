//! Linux networking over netlink (rtnetlink), for the Linux router agent and
//! the lab builder: named network namespaces, veth wires, addresses,
//! sysctls, and IPv6 routes (plain and multipath, seg6 encapsulation,
//! seg6local endpoint behaviors with counters), read back for
//! reconciliation. Nothing here shells out to `ip`.

pub mod links;
pub mod netns;
pub mod routes;

/// A netlink or namespace operation failed; the message says which and on
/// what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NetError(pub String);

impl NetError {
    /// `what` failed because of `e`.
    pub fn new(what: impl std::fmt::Display, e: impl std::fmt::Display) -> NetError {
        NetError(format!("{what}: {e}"))
    }
}

/// Results of this module.
pub type NetResult<T> = Result<T, NetError>;
