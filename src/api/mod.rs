//! The northbound gRPC API (tonic): handlers, proto <-> document conversion,
//! and errors mapped to gRPC status codes once. Handlers validate and
//! convert, send a command to the controller task, and await its reply.

pub mod access;
pub mod convert;
mod path;
mod policy;
pub mod server;
mod status;
mod topology;

use std::sync::Arc;
use std::time::Instant;

use tonic::Status;

use crate::controller::actor::ControllerHandle;
use crate::metrics::Metrics;

/// The state every handler shares: the controller handle, metrics, and the
/// access rules.
#[derive(Clone)]
pub struct Api {
    controller: ControllerHandle,
    metrics: Arc<Metrics>,
    access: Arc<access::Access>,
}

impl Api {
    /// Handlers on `controller`, recording into `metrics`, admitting calls
    /// by `access`.
    pub fn new(
        controller: ControllerHandle,
        metrics: Arc<Metrics>,
        access: Arc<access::Access>,
    ) -> Self {
        Api {
            controller,
            metrics,
            access,
        }
    }

    /// Records a request's outcome and latency; passes the result on.
    fn observe<T>(
        &self,
        method: &str,
        result: Result<T, Status>,
        started: Instant,
    ) -> Result<T, Status> {
        let code = match &result {
            Ok(_) => tonic::Code::Ok,
            Err(s) => s.code(),
        };
        self.metrics.record(method, code, started);
        result
    }
}
