"""Triton's system shared memory extension, driven by tritonclient.utils.shared_memory and
tritonclient.http / tritonclient.grpc against the example `simple` model (INPUT0, INPUT1 INT32
[-1,16] -> OUTPUT0 = sum, OUTPUT1 = difference).

The happy path is Triton's simple_http_shm_client.py / simple_grpc_shm_client.py step by
step; the rest are the bad cases a client can run into. Every test unregisters what it
registered and destroys the regions it created, so the session gateway stays as it was.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
import tritonclient.utils.shared_memory as shm
from tritonclient import utils
from tritonclient.utils import InferenceServerException

PROTOCOLS = ["http", "grpc"]
PID = os.getpid()


def client(gateway, protocol: str):
    if protocol == "http":
        return httpclient.InferenceServerClient(gateway.http)
    return grpcclient.InferenceServerClient(gateway.grpc)


def module(protocol: str):
    return httpclient if protocol == "http" else grpcclient


def key(name: str, protocol: str) -> str:
    return f"/sy_compat_{PID}_{protocol}_{name}"


def output_info(result, name: str, protocol: str) -> tuple:
    out = result.get_output(name)
    assert out is not None, f"{name} is missing in the response"
    if protocol == "http":
        return out["datatype"], out["shape"]
    return out.datatype, list(out.shape)


@pytest.fixture
def regions():
    """Creates regions for a test and destroys them after it."""
    handles: list = []

    def create(name: str, shm_key: str, byte_size: int):
        h = shm.create_shared_memory_region(name, shm_key, byte_size)
        handles.append(h)
        return h

    yield create
    for h in handles:
        shm.destroy_shared_memory_region(h)


def shm_inputs(mod, region: str, byte_size: int, offset1: int | None = None):
    inputs = [mod.InferInput("INPUT0", [1, 16], "INT32"), mod.InferInput("INPUT1", [1, 16], "INT32")]
    inputs[0].set_shared_memory(region, byte_size)
    inputs[1].set_shared_memory(region, byte_size, offset=byte_size if offset1 is None else offset1)
    return inputs


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_simple_shm_client(gateway, regions, protocol):
    mod = module(protocol)
    triton_client = client(gateway, protocol)
    # To make sure no shared memory regions are registered with the server.
    triton_client.unregister_system_shared_memory()
    triton_client.unregister_cuda_shared_memory()

    input0_data = np.arange(start=0, stop=16, dtype=np.int32)
    input1_data = np.ones(shape=16, dtype=np.int32)
    input_byte_size = input0_data.size * input0_data.itemsize
    output_byte_size = input_byte_size

    out_key, in_key = key("output_simple", protocol), key("input_simple", protocol)
    shm_op_handle = regions("output_data", out_key, output_byte_size * 2)
    triton_client.register_system_shared_memory("output_data", out_key, output_byte_size * 2)
    shm_ip_handle = regions("input_data", in_key, input_byte_size * 2)
    shm.set_shared_memory_region(shm_ip_handle, [input0_data])
    shm.set_shared_memory_region(shm_ip_handle, [input1_data], offset=input_byte_size)
    triton_client.register_system_shared_memory("input_data", in_key, input_byte_size * 2)
    try:
        inputs = shm_inputs(mod, "input_data", input_byte_size)
        if protocol == "http":
            outputs = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=True), httpclient.InferRequestedOutput("OUTPUT1", binary_data=True)]
        else:
            outputs = [grpcclient.InferRequestedOutput("OUTPUT0"), grpcclient.InferRequestedOutput("OUTPUT1")]
        outputs[0].set_shared_memory("output_data", output_byte_size)
        outputs[1].set_shared_memory("output_data", output_byte_size, offset=output_byte_size)

        results = triton_client.infer(model_name="simple", inputs=inputs, outputs=outputs)

        dt0, shape0 = output_info(results, "OUTPUT0", protocol)
        dt1, shape1 = output_info(results, "OUTPUT1", protocol)
        assert (dt0, shape0) == ("INT32", [1, 16])
        output0_data = shm.get_contents_as_numpy(shm_op_handle, utils.triton_to_np_dtype(dt0), shape0)
        output1_data = shm.get_contents_as_numpy(shm_op_handle, utils.triton_to_np_dtype(dt1), shape1, offset=output_byte_size)
        np.testing.assert_array_equal(output0_data[0], input0_data + input1_data)
        np.testing.assert_array_equal(output1_data[0], input0_data - input1_data)
        # the data went through the region, not the response
        if protocol == "http":
            assert "data" not in results.get_output("OUTPUT0")
            assert results.get_output("OUTPUT0")["parameters"]["shared_memory_region"] == "output_data"
        else:
            assert len(results.get_response().raw_output_contents[0]) == 0

        status = triton_client.get_system_shared_memory_status(as_json=True) if protocol == "grpc" else triton_client.get_system_shared_memory_status()
        if protocol == "http":
            assert sorted((r["name"], r["key"], r["offset"], r["byte_size"]) for r in status) == [
                ("input_data", in_key, 0, 128),
                ("output_data", out_key, 0, 128),
            ]
        else:
            assert sorted(status["regions"]) == ["input_data", "output_data"]
            assert status["regions"]["input_data"]["key"] == in_key
            assert int(status["regions"]["input_data"]["byte_size"]) == 128
    finally:
        triton_client.unregister_system_shared_memory()
    if protocol == "http":
        assert triton_client.get_system_shared_memory_status() == []
    else:
        assert len(triton_client.get_system_shared_memory_status().regions) == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_mixed_shared_memory_and_inline_tensors(gateway, regions, protocol):
    mod = module(protocol)
    c = client(gateway, protocol)
    k = key("mixed", protocol)
    h = regions("mixed", k, 128)
    in0 = np.arange(16, dtype=np.int32).reshape(1, 16)
    in1 = np.full((1, 16), 3, dtype=np.int32)
    shm.set_shared_memory_region(h, [in0])
    c.register_system_shared_memory("mixed", k, 128)
    try:
        inputs = [mod.InferInput("INPUT0", [1, 16], "INT32"), mod.InferInput("INPUT1", [1, 16], "INT32")]
        inputs[0].set_shared_memory("mixed", 64)
        inputs[1].set_data_from_numpy(in1)
        outputs = [mod.InferRequestedOutput("OUTPUT0"), mod.InferRequestedOutput("OUTPUT1")]
        outputs[1].set_shared_memory("mixed", 64, offset=64)
        r = c.infer("simple", inputs, outputs=outputs)
        np.testing.assert_array_equal(r.as_numpy("OUTPUT0"), in0 + in1)
        np.testing.assert_array_equal(shm.get_contents_as_numpy(h, np.int32, [1, 16], offset=64), in0 - in1)
    finally:
        c.unregister_system_shared_memory("mixed")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_bad_shared_memory_requests(gateway, regions, protocol):
    mod = module(protocol)
    c = client(gateway, protocol)
    k_in, k_small = key("bad_in", protocol), key("bad_small", protocol)
    h = regions("bad_in", k_in, 128)
    shm.set_shared_memory_region(h, [np.arange(16, dtype=np.int32), np.ones(16, dtype=np.int32)])
    regions("bad_small", k_small, 32)
    c.register_system_shared_memory("bad_in", k_in, 128)
    c.register_system_shared_memory("bad_small", k_small, 32)
    try:
        # too-small output region: says how many bytes are needed
        outputs = [mod.InferRequestedOutput("OUTPUT0")]
        outputs[0].set_shared_memory("bad_small", 32)
        with pytest.raises(InferenceServerException, match=r"should be at least 64 bytes to hold the results"):
            c.infer("simple", shm_inputs(mod, "bad_in", 64), outputs=outputs)

        # an input region that was never registered
        with pytest.raises(InferenceServerException, match=r'Unable to find shared memory region: "never_registered"'):
            c.infer("simple", shm_inputs(mod, "never_registered", 64))

        # an input range past the end of its region
        with pytest.raises(InferenceServerException, match=r"shared_memory_offset 96 \+ shared_memory_byte_size 64 = 160 runs past the end"):
            c.infer("simple", shm_inputs(mod, "bad_in", 64, offset1=96))

        # a byte size that does not fit the datatype and shape
        inputs = shm_inputs(mod, "bad_in", 64)
        inputs[0].set_shared_memory("bad_in", 60)
        with pytest.raises(InferenceServerException, match=r"shared_memory_byte_size 60 does not match shape \[1,16\] of INT32: expected 64 bytes"):
            c.infer("simple", inputs)

        # registering a range past the end of the object
        with pytest.raises(InferenceServerException, match=r"offset 64 \+ byte_size 128 = 192 runs past the end of object"):
            c.register_system_shared_memory("past_end", k_in, 128, offset=64)

        # keys that are paths, not shm keys
        for bad in ["/a/b", "../etc/passwd", "/.."]:
            with pytest.raises(InferenceServerException, match=r"a shared memory key is one optional leading \"/\" and a name"):
                c.register_system_shared_memory("bad_key", bad, 8)

        # a key with no object behind it
        with pytest.raises(InferenceServerException, match=r"no such shared memory object; create it first"):
            c.register_system_shared_memory("no_object", key("does_not_exist", protocol), 8)

        # the same name twice
        with pytest.raises(InferenceServerException, match=r"already in manager"):
            c.register_system_shared_memory("bad_in", k_in, 128)

        # unregister, then infer: the region is gone
        c.infer("simple", shm_inputs(mod, "bad_in", 64))
        c.unregister_system_shared_memory("bad_in")
        with pytest.raises(InferenceServerException, match=r'Unable to find shared memory region: "bad_in"'):
            c.infer("simple", shm_inputs(mod, "bad_in", 64))
    finally:
        c.unregister_system_shared_memory()
    # and the gateway keeps serving
    assert c.is_server_live()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_cuda_shared_memory_is_empty_and_refused(gateway, protocol):
    c = client(gateway, protocol)
    status = c.get_cuda_shared_memory_status()
    if protocol == "http":
        assert status == []
    else:
        assert len(status.regions) == 0
    with pytest.raises(InferenceServerException, match=r"CUDA shared memory is not supported on this server"):
        # a serialized cudaIpcMemHandle_t: base64 text over HTTP, bytes over gRPC
        c.register_cuda_shared_memory("gpu_region", "AAAA" if protocol == "http" else b"\0" * 64, 0, 64)
    c.unregister_cuda_shared_memory()
    md = c.get_server_metadata()
    extensions = md["extensions"] if protocol == "http" else list(md.extensions)
    assert "system_shared_memory" in extensions
    assert "cuda_shared_memory" not in extensions


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_registering_needs_the_admin_token(start_gateway, regions, protocol):
    gw = start_gateway(extra_config={"admin_token": "shm-token"}, models=["simple"])
    c = client(gw, protocol)
    k = key("admin", protocol)
    h = regions("admin", k, 128)
    shm.set_shared_memory_region(h, [np.arange(16, dtype=np.int32), np.ones(16, dtype=np.int32)])
    with pytest.raises(InferenceServerException, match=r"admin token"):
        c.register_system_shared_memory("admin", k, 128)
    auth = {"authorization": "Bearer shm-token"}  # gRPC metadata keys are lower case
    c.register_system_shared_memory("admin", k, 128, headers=auth)
    r = c.infer("simple", shm_inputs(module(protocol), "admin", 64))
    np.testing.assert_array_equal(r.as_numpy("OUTPUT0")[0], np.arange(16) + 1)
    with pytest.raises(InferenceServerException, match=r"admin token"):
        c.unregister_system_shared_memory()
    c.unregister_system_shared_memory(headers=auth)
