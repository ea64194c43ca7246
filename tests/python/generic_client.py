"""A generic gRPC client against cpnd, as an OSS integrator's first try
would be: no project protos, only server reflection (grpcio-reflection,
which speaks grpc.reflection.v1alpha) and messages built from the
descriptors it returns. Run by tests/api_generic.rs; prints one JSON object
of what it saw, and exits non-zero on the first expectation that fails.

Usage: generic_client.py HOST:PORT
"""

import json
import sys

import grpc
from google.protobuf import descriptor_pool, message_factory
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from grpc_status import rpc_status

SERVED = {
    "cpn.v1.TopologyService",
    "cpn.v1.PathService",
    "cpn.v1.PolicyService",
    "cpn.v1.BgpLsService",
    "cpn.v1.ClusterService",
    "cpn.v1.ComputeService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
}


def main():
    channel = grpc.insecure_channel(sys.argv[1])
    db = ProtoReflectionDescriptorDatabase(channel)
    services = set(db.get_services())
    # v1 may be listed too; every other name must be one that is served.
    listed = services - {"grpc.reflection.v1.ServerReflection"}
    assert listed == SERVED, f"reflection lists {sorted(services)}"
    pool = descriptor_pool.DescriptorPool(db)

    def message(name):
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))

    def unary(service, method, request_type, response_type):
        return channel.unary_unary(
            f"/{service}/{method}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=message(response_type).FromString,
        )

    PathRequest = message("cpn.v1.PathRequest")
    ComputeDemand = message("cpn.v1.ComputeDemand")
    Install = message("cpn.v1.InstallPolicyRequest")
    install = unary(
        "cpn.v1.PolicyService",
        "InstallPolicy",
        "cpn.v1.InstallPolicyRequest",
        "cpn.v1.InstallPolicyResponse",
    )
    ai = pool.FindEnumTypeByName("cpn.v1.PoolKind").values_by_name["POOL_KIND_AI"].number
    # `from` is a Python keyword: the ** idiom.
    request = PathRequest(**{"from": "a1"}, compute=ComputeDemand(kind=ai, tflops=10))
    first = install(Install(name="py-job", request=request))
    again = install(Install(name="py-job", request=request))
    assert first.created and not again.created, (first.created, again.created)
    assert first.policy.version == again.policy.version
    assert first.policy.created_at.seconds > 0
    assert first.policy.sr_policy.steering_prefix, "the steering prefix"

    # Another request under that name: ALREADY_EXISTS.
    other = PathRequest(**{"from": "a1"}, compute=ComputeDemand(kind=ai, tflops=11))
    try:
        install(Install(name="py-job", request=other))
        raise AssertionError("a different request under a taken name was accepted")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.ALREADY_EXISTS, e.code()

    # Nothing feasible: FAILED_PRECONDITION with every data center's reason.
    huge = PathRequest(**{"from": "a1"}, compute=ComputeDemand(kind=ai, tflops=1e9))
    try:
        install(Install(name="py-huge", request=huge))
        raise AssertionError("an infeasible install was accepted")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.FAILED_PRECONDITION, e.code()
        status = rpc_status.from_call(e)
        failure = error_details_pb2.PreconditionFailure()
        assert any(d.Unpack(failure) for d in status.details), "no PreconditionFailure"
        violations = {v.subject: v.description for v in failure.violations}

    # Bad input: BadRequest with the field path in the request message.
    bad = PathRequest(**{"from": "nowhere"}, compute=ComputeDemand(kind=ai, tflops=1))
    try:
        install(Install(name="py-bad", request=bad))
        raise AssertionError("an unknown headend was accepted")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e.code()
        bad_request = error_details_pb2.BadRequest()
        status = rpc_status.from_call(e)
        assert any(d.Unpack(bad_request) for d in status.details), "no BadRequest"
        fields = [v.field for v in bad_request.field_violations]

    # Not found: ResourceInfo.
    Get = message("cpn.v1.GetPolicyRequest")
    get = unary("cpn.v1.PolicyService", "GetPolicy", "cpn.v1.GetPolicyRequest", "cpn.v1.GetPolicyResponse")
    try:
        get(Get(name="nope"))
        raise AssertionError("a missing policy was found")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.NOT_FOUND, e.code()
        info = error_details_pb2.ResourceInfo()
        status = rpc_status.from_call(e)
        assert any(d.Unpack(info) for d in status.details), "no ResourceInfo"
        resource = [info.resource_type, info.resource_name]

    print(
        json.dumps(
            {
                "services": sorted(services),
                "created": [first.created, again.created],
                "rejected": violations,
                "bad_fields": fields,
                "not_found": resource,
            }
        )
    )


if __name__ == "__main__":
    main()
