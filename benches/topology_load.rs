//! How long loading a large topology file takes: YAML parse, checks, graph
//! and SID allocation, on a generated 10,000-router / 40,000-link network.

use criterion::{Criterion, criterion_group, criterion_main};

use cpn::topology_file::generate::{GenerateParams, generate};
use cpn::topology_file::parse_str;

fn load_10k(c: &mut Criterion) {
    let params = GenerateParams {
        routers: 10_000,
        operators: 4,
        datacenters: 500,
        seed: 1,
        links: Some(40_000),
        compressed: false,
    };
    let doc = generate(&params, &mut |_, _| {}).expect("valid parameters");
    let text = serde_yaml::to_string(&doc).expect("serializable");
    let mut group = c.benchmark_group("topology_load");
    group.sample_size(10);
    group.bench_function("10k_routers_40k_links", |b| {
        b.iter(|| parse_str(&text, "bench.yaml").expect("generated files load"))
    });
    group.finish();
}

criterion_group!(benches, load_10k);
criterion_main!(benches);
