//! gRPC helpers shared by the tests that drive a running controller.

use cpn::document::PolicyJson;
use cpn::proto::convert;
use cpn::proto::v1 as pb;
use cpn::proto::v1::policy_service_client::PolicyServiceClient;
use tonic::transport::Channel;

/// Policy `name` as the controller shows it.
pub async fn policy(c: &mut PolicyServiceClient<Channel>, name: &str) -> PolicyJson {
    let r = c
        .get_policy(pb::GetPolicyRequest { name: name.into() })
        .await
        .unwrap()
        .into_inner();
    convert::policy_from_pb(&r.policy.unwrap()).unwrap()
}
