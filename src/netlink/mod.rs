//! Linux networking over netlink (rtnetlink), for the Linux router agent and
//! the lab builder: named network namespaces, veth wires, addresses,
//! sysctls, and IPv6 routes (plain and multipath, seg6 encapsulation,
//! seg6local endpoint behaviors with counters), read back for
//! reconciliation. Nothing here shells out to `ip`.

pub mod links;
pub mod netns;
pub mod probe;
pub mod routes;

/// A netlink or namespace operation failed; the message says which and on
/// what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NetError {
    /// What failed, and why.
    pub message: String,
    /// The kernel refused the request as it stands (EINVAL, ENODEV, ...):
    /// trying again changes nothing.
    pub refused: bool,
}

impl NetError {
    /// A failure said in full.
    pub fn msg(message: impl Into<String>) -> NetError {
        NetError {
            message: message.into(),
            refused: false,
        }
    }

    /// `what` failed because of `e`.
    pub fn new(what: impl std::fmt::Display, e: impl std::fmt::Display) -> NetError {
        NetError::msg(format!("{what}: {e}"))
    }

    /// `what` failed because the kernel answered `e`.
    pub fn kernel(what: impl std::fmt::Display, e: &rtnetlink::Error) -> NetError {
        // EINVAL, ENODEV, ERANGE, EOPNOTSUPP, EAFNOSUPPORT: the request is wrong.
        let refused = matches!(
            e,
            rtnetlink::Error::NetlinkError(m) if matches!(-m.raw_code(), 22 | 19 | 34 | 95 | 97)
        );
        NetError {
            message: format!("{what}: {e}"),
            refused,
        }
    }
}

/// Results of this module.
pub type NetResult<T> = Result<T, NetError>;
