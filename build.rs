//! Generates the gRPC code of `proto/` with tonic-prost-build, fed by protox
//! (a pure-Rust protobuf compiler), so building needs no system `protoc`:
//! CPN's API, GoBGP's API (client) and etcd's v3 API (client).

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new("proto");
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    // CPN's own API: clients and servers, and the descriptors for server
    // reflection.
    let mut files = Vec::new();
    collect_protos(&root.join("cpn"), &mut files)?;
    files.sort();
    let descriptors = protox::compile(&files, [root])?;
    std::fs::write(
        out_dir.join("cpn_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;

    // GoBGP's API: a client only, and not in cpnd's reflection.
    let mut files = Vec::new();
    collect_protos(&root.join("gobgp"), &mut files)?;
    files.sort();
    let descriptors = protox::compile(&files, [root])?;
    tonic_prost_build::configure()
        .build_server(false)
        .compile_fds(descriptors)?;

    // etcd's v3 API (KV, Watch, Lease, Election), annotations stripped: a
    // client only, for the etcd store and leader election.
    let mut files = Vec::new();
    collect_protos(&root.join("etcd"), &mut files)?;
    files.sort();
    let descriptors = protox::compile(&files, [root])?;
    tonic_prost_build::configure()
        .build_server(false)
        .compile_fds(descriptors)?;
    Ok(())
}

/// Every `.proto` file under `dir`, recursively.
fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
