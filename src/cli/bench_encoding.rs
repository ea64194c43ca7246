//! `cpnctl bench --encoding`: what compressed SRv6 costs and saves. The
//! engine places random requests with full SIDs; each path found is then
//! encoded both ways on warm IGP trees, timed, and its header measured:
//! H.Encaps with every segment in the SRH against H.Encaps.Red with the
//! NEXT-C-SID entries (the first one only in the destination address).

use std::time::{Duration, Instant};

use crate::engine::compress;
use crate::engine::igp::IgpCache;
use crate::engine::{Compression, Engine, IGP_CACHE_BYTES, segments};
use crate::model::{Topology, srh};

use super::bench::{Stats, random_requests, stats};

/// What the encoding benchmark reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EncodingReport {
    /// Paths encoded (the answered requests' primaries).
    pub paths: usize,
    /// Paths that used micro-SIDs.
    pub compressed_paths: usize,
    /// Full-SID encoding, per path.
    pub uncompressed: Stats,
    /// Compressed encoding, per path.
    pub compressed: Stats,
    /// Average segments of the uncompressed lists.
    pub mean_segments: f64,
    /// Average SRH entries of the compressed lists.
    pub mean_entries: f64,
    /// Average bytes H.Encaps adds with full SIDs.
    pub mean_header_bytes_uncompressed: f64,
    /// Average bytes H.Encaps.Red adds with the compressed entries.
    pub mean_header_bytes_compressed: f64,
    /// Paths whose full-SID list exceeds their headend's MSD while the
    /// compressed one fits.
    pub fit_only_compressed: usize,
}

/// Runs the encoding benchmark on `queries` random requests.
pub fn run_encoding(t: &Topology, queries: usize, seed: u64) -> EncodingReport {
    let engine = Engine::new();
    let mut paths = Vec::new();
    for mut req in random_requests(t, queries, seed) {
        req.compression = Compression::Off;
        if let Ok(a) = engine.query(t, &req) {
            paths.push((req.from, a.primary));
        }
    }
    let mut igp = IgpCache::new(IGP_CACHE_BYTES);
    let (mut full_times, mut csid_times) = (Vec::new(), Vec::new());
    let (mut segs, mut entries, mut bytes_full, mut bytes_csid) = (0usize, 0usize, 0usize, 0usize);
    let (mut compressed_paths, mut fit_only_compressed) = (0, 0);
    for (from, p) in &paths {
        // Warm the IGP trees both encoders read, then time each.
        let _ = compress::encode(t, &mut igp, &p.path, &p.links, p.datacenter);
        let start = Instant::now();
        let full = segments::encode(t, &mut igp, &p.path, &p.links, p.datacenter);
        full_times.push(start.elapsed());
        let start = Instant::now();
        let csid = compress::encode(t, &mut igp, &p.path, &p.links, p.datacenter);
        csid_times.push(start.elapsed());
        let depth = csid.depth();
        segs += full.len();
        entries += depth;
        bytes_full += srh::encap_overhead(full.len());
        bytes_csid += if csid.containers.is_some() {
            compressed_paths += 1;
            srh::encap_red_overhead(depth)
        } else {
            srh::encap_overhead(depth)
        };
        let msd = usize::from(t.router(*from).msd);
        fit_only_compressed += usize::from(full.len() > msd && depth <= msd);
    }
    let n = paths.len().max(1) as f64;
    let or_zero = |v: Vec<Duration>| {
        if v.is_empty() {
            vec![Duration::ZERO]
        } else {
            v
        }
    };
    EncodingReport {
        paths: paths.len(),
        compressed_paths,
        uncompressed: stats(or_zero(full_times)),
        compressed: stats(or_zero(csid_times)),
        mean_segments: segs as f64 / n,
        mean_entries: entries as f64 / n,
        mean_header_bytes_uncompressed: bytes_full as f64 / n,
        mean_header_bytes_compressed: bytes_csid as f64 / n,
        fit_only_compressed,
    }
}

/// The report as lines for a terminal.
pub fn render(r: &EncodingReport) -> String {
    let saved = r.mean_header_bytes_uncompressed - r.mean_header_bytes_compressed;
    format!(
        "{} paths ({} compressed), encoded both ways on warm IGP trees\n\
         full SIDs   median {:>7.1} us   p99 {:>7.1} us   {:.2} segments, {:.1} header bytes (H.Encaps)\n\
         next-csid   median {:>7.1} us   p99 {:>7.1} us   {:.2} entries, {:.1} header bytes (H.Encaps.Red)\n\
         saved       {:.1} bytes per packet ({:.0}%); {} paths fit the MSD only compressed\n",
        r.paths,
        r.compressed_paths,
        r.uncompressed.median_us,
        r.uncompressed.p99_us,
        r.mean_segments,
        r.mean_header_bytes_uncompressed,
        r.compressed.median_us,
        r.compressed.p99_us,
        r.mean_entries,
        r.mean_header_bytes_compressed,
        saved,
        100.0 * saved / r.mean_header_bytes_uncompressed.max(1.0),
        r.fit_only_compressed
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology_file::generate::{GenerateParams, generate};

    #[test]
    fn compression_never_costs_header_bytes_on_a_generated_network() {
        let params = GenerateParams {
            routers: 200,
            operators: 2,
            datacenters: 10,
            seed: 3,
            links: None,
            compressed: true,
        };
        let doc = generate(&params, &mut |_, _| {}).unwrap();
        let t = doc.to_builder().unwrap().build().unwrap();
        let r = run_encoding(&t, 300, 1);
        assert!(r.paths > 100, "{r:?}");
        assert!(r.compressed_paths > r.paths / 2, "{r:?}");
        assert!(r.mean_entries <= r.mean_segments, "{r:?}");
        assert!(
            r.mean_header_bytes_compressed < r.mean_header_bytes_uncompressed,
            "{r:?}"
        );
        assert!(render(&r).contains("bytes per packet"));
    }
}
