//! BGP-LS: CPN learns routers, links, metrics and SRv6 SIDs from the
//! network. A passive BGP speaker (it never advertises a route) takes
//! sessions from route reflectors or routers, and what they say becomes the
//! network part of the model; the topology file keeps the business data.

pub mod export;
pub mod merge;
pub mod rib;
pub mod session;
pub mod speaker;
pub mod status;
pub mod wire;
