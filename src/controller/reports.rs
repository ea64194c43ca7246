//! Applying what data centers report (`report_pool`) and the controller's
//! note that a reporter went quiet (`reporter_silent`) to a topology.

use super::events::Touched;
use crate::document::{DEFAULT_REPORT_INTERVAL_S, FieldError, PoolReportDoc, ReporterSilentDoc};
use crate::model::{DatacenterIx, Reporter, ReporterState, Topology};

fn datacenter(t: &Topology, field: &str, id: &str) -> Result<DatacenterIx, FieldError> {
    t.datacenter_ix(id)
        .ok_or_else(|| FieldError::new(field, format!("unknown data center `{id}`")))
}

fn non_negative(field: &str, v: Option<f64>) -> Result<(), FieldError> {
    match v {
        Some(x) if !(x.is_finite() && x >= 0.0) => {
            Err(FieldError::new(field, format!("{x} must be >= 0")))
        }
        _ => Ok(()),
    }
}

/// Applies a pool report: capacity, price, health and queue wait as
/// reported; the load not the controller's own is what the scheduler does
/// not report free beyond the controller's reservations (so that the pool's
/// available compute is what the scheduler reports free). The data
/// center's reporter is live again.
pub fn report_pool(t: &mut Topology, r: &PoolReportDoc) -> Result<Touched, FieldError> {
    let dc = datacenter(t, "report_pool.datacenter", &r.datacenter)?;
    let Some(pool) = t.datacenter(dc).pool(r.kind).cloned() else {
        return Err(FieldError::new(
            "report_pool.kind",
            format!("data center `{}` has no {} pool", r.datacenter, r.kind),
        ));
    };
    let capacity = r.tflops.unwrap_or(pool.tflops);
    if !(capacity.is_finite() && capacity > 0.0) {
        return Err(FieldError::new(
            "report_pool.tflops",
            format!("{capacity} must be > 0"),
        ));
    }
    for (field, free, of) in [
        ("report_pool.free_tflops", r.free_tflops, capacity),
        (
            "report_pool.free_memory_gb",
            r.free_memory_gb,
            pool.memory_gb,
        ),
    ] {
        if let Some(x) = free
            && !(x.is_finite() && (0.0..=of).contains(&x))
        {
            return Err(FieldError::new(
                field,
                format!("{x} must be between 0 and {of}"),
            ));
        }
    }
    non_negative("report_pool.price", r.price)?;
    non_negative("report_pool.queue_wait_s", r.queue_wait_s)?;
    if r.interval_s == Some(0) {
        return Err(FieldError::new("report_pool.interval_s", "0 must be > 0"));
    }
    let interval_s = r
        .interval_s
        .or(t.datacenter(dc).reporter.map(|rep| rep.interval_s))
        .unwrap_or(DEFAULT_REPORT_INTERVAL_S);
    let p = t.pool_mut(dc, r.kind).expect("checked above");
    p.tflops = capacity;
    if let Some(free) = r.free_tflops {
        p.used_tflops = (capacity - free - p.reserved_tflops).max(0.0);
    }
    p.used_tflops = p.used_tflops.min(capacity);
    if let Some(free) = r.free_memory_gb {
        p.used_memory_gb = (p.memory_gb - free - p.reserved_memory_gb).max(0.0);
    }
    if let Some(price) = r.price {
        p.price = price;
    }
    if let Some(health) = r.health {
        p.health = health;
    }
    if r.queue_wait_s.is_some() {
        p.queue_wait_s = r.queue_wait_s;
    }
    t.set_reporter(
        dc,
        Some(Reporter {
            interval_s,
            state: ReporterState::Live,
        }),
    );
    Ok(Touched {
        pools: vec![(dc, r.kind)],
        may_free: true,
        ..Touched::default()
    })
}

/// Marks a reporter stale or lost. Every pool of a lost data center is
/// touched (its jobs move); a stale one changes no placement.
pub fn reporter_silent(t: &mut Topology, s: &ReporterSilentDoc) -> Result<Touched, FieldError> {
    let dc = datacenter(t, "reporter_silent.datacenter", &s.datacenter)?;
    let Some(reporter) = t.datacenter(dc).reporter else {
        return Err(FieldError::new(
            "reporter_silent.datacenter",
            format!("data center `{}` has never reported", s.datacenter),
        ));
    };
    if s.state == ReporterState::Live {
        return Err(FieldError::new(
            "reporter_silent.state",
            "a reporter becomes live by reporting; expected stale or lost",
        ));
    }
    t.set_reporter(
        dc,
        Some(Reporter {
            state: s.state,
            ..reporter
        }),
    );
    let mut touched = Touched::default();
    if s.state == ReporterState::Lost {
        let kinds: Vec<_> = t.datacenter(dc).pools.iter().map(|p| p.kind).collect();
        touched.pools = kinds.into_iter().map(|k| (dc, k)).collect();
    }
    Ok(touched)
}
