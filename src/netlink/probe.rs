//! Does this machine have what a real SRv6 data plane needs? Root, and a
//! kernel built with `CONFIG_IPV6_SEG6_LWTUNNEL` (seg6 encapsulation and
//! seg6local behaviors). Some cloud and micro-VM kernels are built without
//! it: the lab and the Linux agent ask here first and refuse with one line
//! instead of failing half-way; the tests skip (or, in CI, fail) with it.
//!
//! The kernel is asked for real: in a scratch namespace of its own (gone
//! afterwards), an encapsulation route and an End route are added.

use std::net::Ipv6Addr;

use ipnetwork::Ipv6Network;

use super::netns;
use super::routes::{self, LocalAction};

/// What is missing, in one line a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    /// Network namespaces and routes need root.
    #[error("this needs root (network namespaces and SRv6 routes): run it as root")]
    Root,
    /// The kernel has no SRv6 lightweight tunnels.
    #[error(
        "the kernel lacks CONFIG_IPV6_SEG6_LWTUNNEL (SRv6 encapsulation and endpoints): {0}; use a kernel built with it (Debian's stock kernels are)"
    )]
    Srv6(String),
    /// The kernel has SRv6 but not the NEXT-C-SID flavor on End and End.X.
    #[error(
        "the kernel lacks the next-csid flavor on End and End.X (RFC 9800 micro-SIDs; Linux 6.1 for End, about 6.5 for End.X): {0}"
    )]
    NextCsid(String),
    /// The probe itself could not run.
    #[error("cannot check the kernel's SRv6 support: {0}")]
    Probe(String),
}

/// Names checks may be told to treat as missing (`CPN_TEST_HIDE`), so that
/// a test suite can show what a machine without them sees. Not for users.
pub const HIDE_ENV: &str = "CPN_TEST_HIDE";

/// True when `what` is listed in `CPN_TEST_HIDE` (comma-separated).
pub fn hidden(what: &str) -> bool {
    std::env::var(HIDE_ENV).is_ok_and(|v| v.split(',').any(|x| x.trim() == what))
}

/// A scratch namespace name unique to this probe (tests probe in parallel
/// in one process).
fn scratch_name(what: &str) -> String {
    static PROBES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{what}-{}-{n}", std::process::id())
}

/// Checks root and the kernel's SRv6 support, leaving nothing behind.
pub async fn srv6() -> Result<(), Missing> {
    if hidden("root") || !nix::unistd::geteuid().is_root() {
        return Err(Missing::Root);
    }
    if hidden("srv6") {
        return Err(Missing::Srv6(format!("hidden by {HIDE_ENV}")));
    }
    let name = scratch_name("cpn-probe");
    netns::create(&name).map_err(|e| Missing::Probe(e.to_string()))?;
    let result = try_routes(&name).await;
    let removed = netns::delete(&name);
    result?;
    removed.map_err(|e| Missing::Probe(e.to_string()))
}

/// Checks [`srv6`] and that End and End.X keep the NEXT-C-SID flavor (read
/// back: a kernel may take the attribute and drop it).
pub async fn next_csid() -> Result<(), Missing> {
    srv6().await?;
    if hidden("next-csid") {
        return Err(Missing::NextCsid(format!("hidden by {HIDE_ENV}")));
    }
    let name = scratch_name("cpn-probe-csid");
    netns::create(&name).map_err(|e| Missing::Probe(e.to_string()))?;
    let result = try_flavors(&name).await;
    let removed = netns::delete(&name);
    result?;
    removed.map_err(|e| Missing::Probe(e.to_string()))
}

async fn try_flavors(name: &str) -> Result<(), Missing> {
    let h = netns::connect(Some(name)).map_err(|e| Missing::Probe(e.to_string()))?;
    let lo = 1;
    super::links::set_up(&h, "lo", true)
        .await
        .map_err(|e| Missing::Probe(e.to_string()))?;
    let flavor = routes::NextCsid {
        block_bits: 32,
        node_function_bits: 16,
    };
    let un: Ipv6Network = "fc00:ffff:100::/48".parse().expect("a prefix");
    let ua: Ipv6Network = "fc00:ffff:e001::/48".parse().expect("a prefix");
    let next_hop = Ipv6Addr::LOCALHOST;
    for (prefix, action) in [(un, LocalAction::End), (ua, LocalAction::EndX { next_hop })] {
        routes::add_local_flavored(&h, prefix, action, Some(flavor), lo, routes::AGENT_PROTOCOL)
            .await
            .map_err(|e| Missing::NextCsid(e.to_string()))?;
    }
    let held = routes::dump(&h, routes::MAIN_TABLE, routes::AGENT_PROTOCOL)
        .await
        .map_err(|e| Missing::Probe(e.to_string()))?;
    let flavored = held
        .iter()
        .filter(|(r, _)| {
            matches!(
                r,
                routes::Route::Local {
                    next_csid: Some(_),
                    ..
                }
            )
        })
        .count();
    if flavored < 2 {
        return Err(Missing::NextCsid(
            "the routes were taken without the flavor".into(),
        ));
    }
    Ok(())
}

async fn try_routes(name: &str) -> Result<(), Missing> {
    let h = netns::connect(Some(name)).map_err(|e| Missing::Probe(e.to_string()))?;
    // `lo` is interface 1 in every namespace.
    let lo = 1;
    super::links::set_up(&h, "lo", true)
        .await
        .map_err(|e| Missing::Probe(e.to_string()))?;
    let prefix = Ipv6Network::new(Ipv6Addr::new(0xfc00, 0xffff, 0, 0, 0, 0, 0, 0), 64)
        .expect("64 is a valid length");
    let sid = Ipv6Addr::new(0xfc00, 0xffff, 1, 0, 0, 0, 0, 0);
    routes::add_encap(&h, prefix, &[sid], lo, routes::AGENT_PROTOCOL)
        .await
        .map_err(|e| Missing::Srv6(e.to_string()))?;
    routes::add_local(&h, sid, LocalAction::End, lo, routes::AGENT_PROTOCOL)
        .await
        .map_err(|e| Missing::Srv6(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_pieces_say_what_to_do() {
        assert!(Missing::Root.to_string().contains("run it as root"));
        let m = Missing::Srv6("Operation not supported".into()).to_string();
        assert!(m.contains("CONFIG_IPV6_SEG6_LWTUNNEL"), "{m}");
    }
}
