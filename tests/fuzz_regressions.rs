//! Every input a fuzz target once failed on (`fuzz/regressions/TARGET/`)
//! passes that target's checks now.

#[path = "../fuzz/checks.rs"]
mod checks;

#[test]
fn every_input_that_once_failed_passes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut replayed = 0;
    for target in std::fs::read_dir(&root).unwrap() {
        let target = target.unwrap().path();
        let name = target.file_name().unwrap().to_string_lossy().into_owned();
        let check: fn(&[u8]) = match name.as_str() {
            "srh" => checks::srh,
            "topology_loader" => checks::topology,
            "request_parser" => checks::request,
            "bgp_ls" => checks::bgp_ls,
            other => panic!("fuzz/regressions/{other}: no such fuzz target"),
        };
        for input in std::fs::read_dir(&target).unwrap() {
            let path = input.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            if let Err(e) = std::panic::catch_unwind(|| check(&data)) {
                panic!("{} fails again: {e:?}", path.display());
            }
            replayed += 1;
        }
    }
    assert!(
        replayed > 0,
        "no regression inputs found under {}",
        root.display()
    );
}

/// The BGP-LS check on the lab's UPDATE messages with random bytes
/// changed, cut or repeated: a short fuzzing run on a stable toolchain,
/// every time the tests run (the real one is `cargo fuzz run bgp_ls`).
#[test]
fn bgp_ls_decoder_survives_mutated_updates() {
    use rand::{RngExt, SeedableRng};
    let lab =
        cpn::topology_file::load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml"))
            .unwrap();
    let e = cpn::bgp_ls::export::export(&lab);
    let messages = cpn::bgp_ls::export::messages(&e.routes, 65000, "10.0.0.1".parse().unwrap());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for round in 0..20_000 {
        let start = rng.random_range(0..messages.len());
        let count = rng.random_range(1..6);
        let mut data: Vec<u8> = messages[start..(start + count).min(messages.len())].concat();
        for _ in 0..rng.random_range(1..8) {
            let at = rng.random_range(0..data.len());
            match rng.random_range(0..4) {
                0 => data[at] = rng.random(),
                1 => data[at] ^= 1 << rng.random_range(0..8),
                2 => data.truncate(at.max(1)),
                _ => {
                    let piece = data[at..].iter().take(9).copied().collect::<Vec<_>>();
                    data.splice(at..at, piece);
                }
            }
        }
        // The first byte is how the session's input is cut.
        data.insert(0, rng.random());
        if let Err(e) = std::panic::catch_unwind(|| checks::bgp_ls(&data)) {
            let path = std::env::temp_dir().join(format!("bgp-ls-crash-{round}"));
            std::fs::write(&path, &data).unwrap();
            panic!("round {round} fails (input in {}): {e:?}", path.display());
        }
    }
}
