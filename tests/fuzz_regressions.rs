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
