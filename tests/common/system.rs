//! What a test needs from the machine (root, a kernel with SRv6, outside
//! programs), checked before the test runs. Where something is missing the
//! test passes without running its body and says so in one line on the
//! terminal (not captured: the summary shows it); with
//! `CPN_REQUIRE_SYSTEM_TESTS=1` (CI) it fails instead, so that CI keeps
//! proving the real data plane, the real BGP speaker and the rest.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// Set to 1 to make a missing prerequisite fail the test.
pub const REQUIRE_ENV: &str = "CPN_REQUIRE_SYSTEM_TESTS";

/// Something a test may need.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    /// Root (namespaces, routes, port 179).
    Root,
    /// Root and a kernel with SRv6 (seg6 and seg6local routes).
    Srv6,
    /// Python 3 with gRPC and its reflection and status packages (a
    /// generic client, as an integrator's first tool).
    PythonGrpc,
    /// Root, SRv6, and the NEXT-C-SID flavor on End and End.X.
    NextCsid,
    /// A program on the machine, and the Debian package that has it.
    Program {
        /// Its name.
        name: &'static str,
        /// Where it usually is (checked in order), then `PATH`.
        paths: &'static [&'static str],
        /// `apt-get install` this.
        package: &'static str,
    },
}

/// Root.
pub const ROOT: Need = Need::Root;
/// Python 3 with grpcio, grpcio-reflection and grpcio-status.
pub const PYTHON_GRPC: Need = Need::PythonGrpc;
/// Root and a kernel with SRv6.
pub const SRV6: Need = Need::Srv6;
/// Root, SRv6 and micro-SIDs (the next-csid flavor).
pub const NEXT_CSID: Need = Need::NextCsid;
/// Graphviz's `dot`.
pub const DOT: Need = Need::Program {
    name: "dot",
    paths: &["/usr/bin/dot"],
    package: "graphviz",
};
/// GoBGP's daemon.
pub const GOBGPD: Need = Need::Program {
    name: "gobgpd",
    paths: &[
        "/usr/bin/gobgpd",
        "/usr/sbin/gobgpd",
        "/usr/local/bin/gobgpd",
    ],
    package: "gobgpd",
};
/// Headless Chromium (the web console's browser tests).
pub const CHROMIUM: Need = Need::Program {
    name: "chromium",
    paths: &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    package: "chromium",
};
/// Chromium's WebDriver server.
pub const CHROMEDRIVER: Need = Need::Program {
    name: "chromedriver",
    paths: &["/usr/bin/chromedriver"],
    package: "chromium-driver",
};
/// `ping` (for `ip netns exec ... ping`).
pub const PING: Need = Need::Program {
    name: "ping",
    paths: &["/usr/bin/ping", "/bin/ping"],
    package: "iputils-ping",
};
/// `ip` (for `ip netns exec`).
pub const IP: Need = Need::Program {
    name: "ip",
    paths: &["/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip", "/bin/ip"],
    package: "iproute2",
};

/// Where `name` is: one of `paths`, else found on `PATH`. `None` when
/// missing (or hidden by `CPN_TEST_HIDE`, to show what a machine without
/// it sees).
pub fn program(name: &str, paths: &[&str]) -> Option<PathBuf> {
    if cpn::netlink::probe::hidden(name) {
        return None;
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    paths
        .iter()
        .map(PathBuf::from)
        .chain(on_path)
        .find(|p| Path::new(p).is_file())
}

/// Why `need` is not met, in one line saying how to meet it; `None` when met.
pub async fn missing(need: Need) -> Option<String> {
    match need {
        Need::Root => (cpn::netlink::probe::hidden("root") || !nix::unistd::geteuid().is_root())
            .then(|| {
                "not run as root (network namespaces need it): run the tests as root".to_owned()
            }),
        Need::Srv6 => cpn::netlink::probe::srv6()
            .await
            .err()
            .map(|e| e.to_string()),
        Need::PythonGrpc => {
            let ok = !cpn::netlink::probe::hidden("python-grpc")
                && std::process::Command::new("python3")
                    .args(["-c", "import grpc, grpc_reflection, grpc_status"])
                    .output()
                    .is_ok_and(|o| o.status.success());
            (!ok).then(|| {
                "Python's gRPC is not installed: pip install grpcio grpcio-reflection grpcio-status"
                    .to_owned()
            })
        }
        Need::NextCsid => cpn::netlink::probe::next_csid()
            .await
            .err()
            .map(|e| e.to_string()),
        Need::Program {
            name,
            paths,
            package,
        } => program(name, paths)
            .is_none()
            .then(|| format!("`{name}` is not installed: apt-get install {package}")),
    }
}

/// True when every need of `test` is met. Otherwise says what is missing on
/// the terminal and returns false (the test then returns: skipped), or,
/// under `CPN_REQUIRE_SYSTEM_TESTS=1`, fails.
pub async fn available(test: &str, needs: &[Need]) -> bool {
    let mut lacking = Vec::new();
    for &need in needs {
        if let Some(why) = missing(need).await {
            lacking.push(why);
        }
    }
    if lacking.is_empty() {
        return true;
    }
    let line = format!("SKIPPED {test}: {}", lacking.join("; "));
    assert!(
        std::env::var(REQUIRE_ENV).as_deref() != Ok("1"),
        "{line} ({REQUIRE_ENV}=1: system tests are required here)"
    );
    // Straight to the terminal: the test harness captures print!, not this.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
    false
}

/// Whether one need is met here, or missing only because of this kernel
/// (root is there, nothing is hidden by `CPN_TEST_HIDE`: another kernel
/// would do), or missing otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Here {
    Met,
    KernelLacks,
    Missing,
}

/// Checks `need` once (a kernel need by its probe, classified).
async fn here(need: Need) -> Here {
    use cpn::netlink::probe::{self, Missing};
    let result = match need {
        Need::Srv6 => probe::srv6().await,
        Need::NextCsid => probe::next_csid().await,
        _ => {
            return match missing(need).await {
                None => Here::Met,
                Some(_) => Here::Missing,
            };
        }
    };
    let hidden = probe::hidden("srv6") || probe::hidden("next-csid");
    match result {
        Ok(()) => Here::Met,
        Err(Missing::Srv6(_) | Missing::NextCsid(_)) if !hidden => Here::KernelLacks,
        Err(_) => Here::Missing,
    }
}

/// [`available`] for a test that needs an SRv6 kernel; `name` is its exact
/// name in this test binary. Where this kernel lacks SRv6 and a vmlab is
/// configured ([`super::vmlab`]), the test runs in the VM instead (and
/// fails here when it fails there); the caller then returns.
pub async fn available_on_an_srv6_kernel(name: &str, needs: &[Need]) -> bool {
    let Some(runner) = super::vmlab::runner() else {
        return available(name, needs).await;
    };
    let mut elsewhere = false;
    for &need in needs {
        match here(need).await {
            Here::Met => {}
            Here::KernelLacks => elsewhere = true,
            // Something a VM does not bring (root, a program): as usual.
            Here::Missing => return available(name, needs).await,
        }
    }
    if !elsewhere {
        return true;
    }
    super::vmlab::run_test(&runner, name).await;
    false
}

/// [`available`] for tests without a runtime.
pub fn available_blocking(test: &str, needs: &[Need]) -> bool {
    let needs = needs.to_vec();
    let test = test.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(available(&test, &needs))
    })
    .join()
    .expect("the check ran")
}
