//! `TopologyService.GetTopology` over a real gRPC connection: a tonic server
//! on port 0 in-process, a tonic client, the lab topology.

use std::sync::Arc;

use cpn::api::topology::TopologyApi;
use cpn::proto::v1 as pb;
use cpn::proto::v1::topology_service_client::TopologyServiceClient;
use cpn::proto::v1::topology_service_server::TopologyServiceServer;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;

#[tokio::test]
async fn get_topology_returns_the_model_with_sids() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/lab.yaml");
    let topology = Arc::new(cpn::topology_file::load_file(path).unwrap());
    let (_tx, rx) = watch::channel(topology);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TopologyServiceServer::new(TopologyApi::new(rx)))
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
                stopped.await.ok();
            }),
    );

    let mut client = TopologyServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let t = client
        .get_topology(pb::GetTopologyRequest {})
        .await
        .unwrap()
        .into_inner()
        .topology
        .unwrap();
    assert_eq!(t.name, "lab");
    let ids: Vec<&str> = t.routers.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a1", "a2", "a3", "a4", "b1", "b2", "b3"]);
    let a2 = &t.routers[1];
    assert_eq!(a2.locator, "fc00:a:2::/48");
    // a2: End, End.X for a1-a2 and a2-a4, End.DT6 for dc-north.
    let sids: Vec<(&str, i32, &str, &str)> = a2
        .sids
        .iter()
        .map(|s| {
            (
                s.sid.as_str(),
                s.behavior,
                s.link.as_str(),
                s.datacenter.as_str(),
            )
        })
        .collect();
    assert_eq!(
        sids,
        [
            ("fc00:a:2::", 1, "", ""),
            ("fc00:a:2:d000::", 18, "", "dc-north"),
            ("fc00:a:2:e001::", 5, "a1-a2", ""),
            ("fc00:a:2:e002::", 5, "a2-a4", ""),
        ]
    );
    let peer = t.links.iter().find(|l| l.id == "a4-b1").unwrap();
    assert!(peer.peering);
    let a2a4 = t.links.iter().find(|l| l.id == "a2-a4").unwrap();
    assert_eq!((a2a4.used_mbps, a2a4.available_mbps), (10_000, 30_000));
    let west = t.datacenters.iter().find(|d| d.id == "dc-west").unwrap();
    assert_eq!(west.pools[0].kind, pb::PoolKind::Ai as i32);
    assert_eq!(west.pools[0].available_tflops, 3500.0);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
