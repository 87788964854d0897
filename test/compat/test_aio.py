"""tritonclient.http.aio and tritonclient.grpc.aio (the asyncio clients).

Each test runs its own event loop with asyncio.run (no pytest-asyncio needed)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.grpc.aio as grpcaio
import tritonclient.http as httpclient
import tritonclient.http.aio as httpaio
from tritonclient.utils import InferenceServerException

from compat_util import DTYPES, assert_same, dtype_values, simple_inputs


def http_simple(a: np.ndarray, b: np.ndarray, binary_data: bool = True) -> list[httpclient.InferInput]:
    inputs = [httpclient.InferInput("INPUT0", list(a.shape), "INT32"), httpclient.InferInput("INPUT1", list(b.shape), "INT32")]
    inputs[0].set_data_from_numpy(a, binary_data=binary_data)
    inputs[1].set_data_from_numpy(b, binary_data=binary_data)
    return inputs


def grpc_simple(a: np.ndarray, b: np.ndarray) -> list[grpcclient.InferInput]:
    inputs = [grpcclient.InferInput("INPUT0", list(a.shape), "INT32"), grpcclient.InferInput("INPUT1", list(b.shape), "INT32")]
    inputs[0].set_data_from_numpy(a)
    inputs[1].set_data_from_numpy(b)
    return inputs


# --- tritonclient.http.aio ----------------------------------------------------------------


def test_http_aio_health_and_metadata(gateway):
    async def run():
        async with httpaio.InferenceServerClient(gateway.http) as c:
            assert await c.is_server_live() is True
            assert await c.is_server_ready() is True
            assert await c.is_model_ready("simple") is True
            assert await c.is_model_ready("no_such_model") is False
            assert (await c.get_server_metadata())["name"] == "switchyard"
            md = await c.get_model_metadata("simple")
            assert [i["name"] for i in md["inputs"]] == ["INPUT0", "INPUT1"]
            cfg = await c.get_model_config("tabular")
            assert cfg["max_batch_size"] == 64
            index = await c.get_model_repository_index()
            assert {"simple", "dtypes", "heavy", "tabular"} <= {m["name"] for m in index}

    asyncio.run(run())


@pytest.mark.parametrize("binary_data", [True, False], ids=["binary", "json"])
def test_http_aio_infer_concurrently(gateway, binary_data):
    async def run():
        async with httpaio.InferenceServerClient(gateway.http) as c:
            cases = [simple_inputs(rows=1 + i % 3, seed=400 + i) for i in range(10)]
            outputs = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=binary_data), httpclient.InferRequestedOutput("OUTPUT1", binary_data=binary_data)]
            results = await asyncio.gather(*(c.infer("simple", http_simple(a, b, binary_data), outputs=outputs, request_id=f"aio-{i}") for i, (a, b) in enumerate(cases)))
            for i, ((a, b), res) in enumerate(zip(cases, results)):
                assert res.get_response()["id"] == f"aio-{i}"
                assert_same(res.as_numpy("OUTPUT0"), a + b, f"aio-{i} OUTPUT0")
                assert_same(res.as_numpy("OUTPUT1"), a - b, f"aio-{i} OUTPUT1")

    asyncio.run(run())


def test_http_aio_output_selection_priority_and_timeout(gateway):
    async def run():
        async with httpaio.InferenceServerClient(gateway.http) as c:
            a, b = simple_inputs(seed=410)
            res = await c.infer("simple", http_simple(a, b), outputs=[httpclient.InferRequestedOutput("OUTPUT1")], priority=1, timeout=10_000_000)
            assert res.as_numpy("OUTPUT0") is None
            assert_same(res.as_numpy("OUTPUT1"), a - b, "OUTPUT1")

    asyncio.run(run())


def test_http_aio_every_datatype(gateway):
    async def run():
        async with httpaio.InferenceServerClient(gateway.http) as c:
            inputs, expected = [], {}
            for datatype in DTYPES:
                values = dtype_values(datatype, (1, 5))
                inp = httpclient.InferInput(f"in_{datatype.lower()}", [1, 5], datatype)
                inp.set_data_from_numpy(values)
                inputs.append(inp)
                expected[f"out_{datatype.lower()}"] = values
            res = await c.infer("dtypes", inputs)
            for name, values in expected.items():
                assert_same(res.as_numpy(name), values, name)

    asyncio.run(run())


def test_http_aio_statistics_and_errors(gateway):
    async def run():
        async with httpaio.InferenceServerClient(gateway.http) as c:
            [before] = (await c.get_inference_statistics("simple", "1"))["model_stats"]
            a, b = simple_inputs(rows=2, seed=411)
            await c.infer("simple", http_simple(a, b))
            [after] = (await c.get_inference_statistics("simple", "1"))["model_stats"]
            assert after["inference_count"] == before["inference_count"] + 2
            assert after["inference_stats"]["success"]["count"] == before["inference_stats"]["success"]["count"] + 1

            with pytest.raises(InferenceServerException) as e:
                await c.infer("no_such_model", http_simple(a, b))
            assert e.value.status() == "404" and "no_such_model" in e.value.message()
            wrong = np.zeros((1, 4), dtype=np.int32)
            with pytest.raises(InferenceServerException) as e:
                await c.infer("simple", http_simple(wrong, wrong))
            assert e.value.status() == "400" and "INPUT0" in e.value.message()

    asyncio.run(run())


def test_http_aio_repository_unload_and_load(start_gateway):
    gw = start_gateway(models=["simple_identity"])

    async def run():
        async with httpaio.InferenceServerClient(gw.http) as c:
            await c.unload_model("simple_identity")
            assert await c.is_model_ready("simple_identity") is False
            await c.load_model("simple_identity")
            assert await c.is_model_ready("simple_identity") is True
            data = np.array([[b"x", b"yz"]], dtype=np.object_)
            inp = httpclient.InferInput("INPUT0", [1, 2], "BYTES")
            inp.set_data_from_numpy(data)
            assert_same((await c.infer("simple_identity", [inp])).as_numpy("OUTPUT0"), data, "OUTPUT0")

    asyncio.run(run())


# --- tritonclient.grpc.aio ----------------------------------------------------------------


def test_grpc_aio_health_and_metadata(gateway):
    async def run():
        async with grpcaio.InferenceServerClient(gateway.grpc) as c:
            assert await c.is_server_live() is True
            assert await c.is_server_ready() is True
            assert await c.is_model_ready("simple") is True
            assert (await c.get_server_metadata()).name == "switchyard"
            md = await c.get_model_metadata("simple", as_json=True)
            assert [o["name"] for o in md["outputs"]] == ["OUTPUT0", "OUTPUT1"]
            cfg = await c.get_model_config("simple")
            assert cfg.config.max_batch_size == 8
            index = await c.get_model_repository_index(as_json=True)
            assert ("tabular", "2") in {(m["name"], m["version"]) for m in index["models"]}
            [stats] = (await c.get_inference_statistics("heavy")).model_stats
            assert stats.name == "heavy"

    asyncio.run(run())


def test_grpc_aio_infer_concurrently(gateway):
    async def run():
        async with grpcaio.InferenceServerClient(gateway.grpc) as c:
            cases = [simple_inputs(rows=1 + i % 4, seed=500 + i) for i in range(10)]
            results = await asyncio.gather(*(c.infer("simple", grpc_simple(a, b), request_id=f"ga-{i}", priority=1, timeout=10_000_000) for i, (a, b) in enumerate(cases)))
            for i, ((a, b), res) in enumerate(zip(cases, results)):
                assert res.get_response().id == f"ga-{i}"
                assert_same(res.as_numpy("OUTPUT0"), a + b, f"ga-{i} OUTPUT0")
                assert_same(res.as_numpy("OUTPUT1"), a - b, f"ga-{i} OUTPUT1")
            a, b = cases[0]
            res = await c.infer("simple", grpc_simple(a, b), outputs=[grpcclient.InferRequestedOutput("OUTPUT0")])
            assert res.as_numpy("OUTPUT1") is None
            assert_same(res.as_numpy("OUTPUT0"), a + b, "OUTPUT0")

    asyncio.run(run())


def test_grpc_aio_stream_infer_matches_ids(gateway):
    async def run():
        async with grpcaio.InferenceServerClient(gateway.grpc) as c:
            sent = {f"s-{i}": simple_inputs(rows=1 + i % 2, seed=600 + i) for i in range(10)}

            async def requests():
                for rid, (a, b) in sent.items():
                    yield {"model_name": "simple", "inputs": grpc_simple(a, b), "request_id": rid}

            seen = set()
            async for result, error in c.stream_infer(requests(), stream_timeout=30):
                assert error is None, str(error)
                rid = result.get_response().id
                assert rid in sent and rid not in seen, f"unexpected or repeated id {rid!r}"
                seen.add(rid)
                a, b = sent[rid]
                assert_same(result.as_numpy("OUTPUT0"), a + b, f"{rid} OUTPUT0")
                assert_same(result.as_numpy("OUTPUT1"), a - b, f"{rid} OUTPUT1")
                if seen == set(sent):
                    break
            assert seen == set(sent)

    asyncio.run(run())


def test_grpc_aio_client_deadline(gateway):
    async def run():
        async with grpcaio.InferenceServerClient(gateway.grpc) as c:
            x = np.random.default_rng(601).random((64, 512), dtype=np.float32)
            inp = grpcclient.InferInput("x", [64, 512], "FP32")
            inp.set_data_from_numpy(x)
            with pytest.raises(InferenceServerException) as e:
                await c.infer("heavy", [inp], client_timeout=0.001)
            assert e.value.status() == "StatusCode.DEADLINE_EXCEEDED"
            assert (await c.infer("heavy", [inp], client_timeout=30)).as_numpy("y").shape == (64, 512)

    asyncio.run(run())


def test_grpc_aio_errors(gateway):
    async def run():
        async with grpcaio.InferenceServerClient(gateway.grpc) as c:
            a, b = simple_inputs(seed=602)
            with pytest.raises(InferenceServerException) as e:
                await c.infer("no_such_model", grpc_simple(a, b))
            assert e.value.status() == "StatusCode.NOT_FOUND" and "no_such_model" in e.value.message()
            wrong = grpcclient.InferInput("INPUT0", [1, 16], "INT64")
            wrong.set_data_from_numpy(a.astype(np.int64))
            with pytest.raises(InferenceServerException) as e:
                await c.infer("simple", [wrong, grpc_simple(a, b)[1]])
            assert e.value.status() == "StatusCode.INVALID_ARGUMENT"
            assert "INPUT0" in e.value.message() and "INT64" in e.value.message()

    asyncio.run(run())
