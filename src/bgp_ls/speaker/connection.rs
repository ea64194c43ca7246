//! One TCP connection: the socket, the clock, and the session state machine
//! between them. What the session says goes to the learner; the learner can
//! ask the connection to cease (a newer connection of the same peer won).

use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use super::{Msg, stopped};
use crate::bgp_ls::session::{self, Event, Output, Session};

/// What the learner may ask of a connection.
#[derive(Debug)]
pub(super) enum Control {
    /// Send Cease with this subcode and close.
    Cease(u8, String),
}

/// Runs one connection until it closes or `stop` turns true.
pub(super) async fn run(
    mut stream: TcpStream,
    id: u64,
    peer: String,
    config: session::Config,
    learner: mpsc::Sender<Msg>,
    mut stop: watch::Receiver<bool>,
) {
    let (control_tx, mut control) = mpsc::channel(4);
    if learner
        .send(Msg::Connected {
            conn: id,
            peer: peer.clone(),
            control: control_tx,
        })
        .await
        .is_err()
    {
        return;
    }
    let (mut session, first) = Session::new(config, Instant::now());
    let mut closed = None;
    if let Err(e) = deliver(&mut stream, id, &learner, first, &mut closed).await {
        closed.get_or_insert(format!("cannot write: {e}"));
    }
    let mut buf = vec![0u8; 64 * 1024];
    while closed.is_none() {
        let deadline = session
            .deadline()
            .map(tokio::time::Instant::from_std)
            .unwrap_or_else(|| tokio::time::Instant::now() + std::time::Duration::from_secs(3600));
        let outputs = tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) => {
                    closed = Some("the peer closed the connection".to_owned());
                    break;
                }
                Ok(n) => session.receive(&buf[..n], Instant::now()),
                Err(e) => {
                    closed = Some(format!("cannot read: {e}"));
                    break;
                }
            },
            () = tokio::time::sleep_until(deadline) => session.tick(Instant::now()),
            Some(Control::Cease(subcode, why)) = control.recv() => session.cease(subcode, &why),
            () = stopped(&mut stop) => session.cease(2, "cpnd is shutting down"),
        };
        if let Err(e) = deliver(&mut stream, id, &learner, outputs, &mut closed).await {
            closed.get_or_insert(format!("cannot write: {e}"));
        }
    }
    let reason = closed.unwrap_or_default();
    debug!(%peer, reason, "BGP-LS connection closed");
    let _ = stream.shutdown().await;
    let _ = learner.send(Msg::Down { conn: id, reason }).await;
}

/// Writes and forwards a session's outputs; sets `closed` when the session
/// ended.
async fn deliver(
    stream: &mut TcpStream,
    id: u64,
    learner: &mpsc::Sender<Msg>,
    outputs: Vec<Output>,
    closed: &mut Option<String>,
) -> std::io::Result<()> {
    for o in outputs {
        match o {
            Output::Send(bytes) => stream.write_all(&bytes).await?,
            Output::Event(Event::Established(peer)) => {
                info!(conn = id, asn = peer.asn, bgp_id = %peer.bgp_id, hold_time = peer.hold_time,
                    graceful_restart = peer.graceful_restart, "BGP-LS session established");
                let _ = learner.send(Msg::Up { conn: id, peer }).await;
            }
            Output::Event(Event::Update(update)) => {
                let _ = learner.send(Msg::Update { conn: id, update }).await;
            }
            Output::Event(Event::Closed(c)) => {
                if let Some(n) = &c.sent {
                    warn!(
                        conn = id,
                        notification = n.describe(),
                        reason = c.reason,
                        "BGP-LS session closed by CPN"
                    );
                } else {
                    info!(
                        conn = id,
                        reason = c.reason,
                        "BGP-LS session closed by the peer"
                    );
                }
                *closed = Some(c.reason);
            }
        }
    }
    Ok(())
}
