//! Ports for programs that must be told theirs (etcd, gobgpd): they cannot
//! listen on port 0 and report what they got, so a test picks one first.
//!
//! Picking by binding port 0 and releasing it races with every other
//! server of the test run that binds port 0 meanwhile: the kernel hands out
//! the same ephemeral range, and may give away the port just released. The
//! ports here come from below that range (`ip_local_port_range`), where
//! nothing binding port 0 ever lands, and one process never hands out the
//! same port twice.

#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// The lowest port handed out.
const FIRST: u32 = 10_000;

/// The next port to try, offset by the process id so that test programs
/// running side by side start apart.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// The start of the kernel's ephemeral range (32768 when it cannot be read).
fn ephemeral_start() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .filter(|&low: &u32| low > FIRST + 1_000)
        .unwrap_or(32_768)
}

/// A port below the ephemeral range that is free on `ip` right now.
pub fn free_port_on(ip: &str) -> u16 {
    let span = ephemeral_start() - FIRST;
    let _ = NEXT.compare_exchange(
        0,
        1 + std::process::id() * 97 % span,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..span {
        let port = FIRST + NEXT.fetch_add(1, Ordering::Relaxed) % span;
        let port = u16::try_from(port).expect("below the ephemeral range");
        if TcpListener::bind((ip, port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on {ip} below the ephemeral range");
}

/// A free loopback port below the ephemeral range.
pub fn free_port() -> u16 {
    free_port_on("127.0.0.1")
}
