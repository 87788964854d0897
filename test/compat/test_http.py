"""tritonclient.http (the synchronous REST client) against switchyard."""

from __future__ import annotations

import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from compat_util import DTYPES, assert_same, dtype_values, simple_inputs


@pytest.fixture(scope="module")
def client(gateway):
    c = httpclient.InferenceServerClient(gateway.http, concurrency=4)
    yield c
    c.close()


def simple_request(a: np.ndarray, b: np.ndarray, binary_data: bool = True) -> list[httpclient.InferInput]:
    inputs = [httpclient.InferInput("INPUT0", list(a.shape), "INT32"), httpclient.InferInput("INPUT1", list(b.shape), "INT32")]
    inputs[0].set_data_from_numpy(a, binary_data=binary_data)
    inputs[1].set_data_from_numpy(b, binary_data=binary_data)
    return inputs


# --- health and metadata ---------------------------------------------------------------


def test_health_live_and_ready(client):
    assert client.is_server_live() is True
    assert client.is_server_ready() is True
    assert client.is_model_ready("simple") is True
    assert client.is_model_ready("tabular", "1") is True
    assert client.is_model_ready("tabular", "2") is True
    assert client.is_model_ready("no_such_model") is False
    assert client.is_model_ready("tabular", "3") is False


def test_server_metadata(client):
    md = client.get_server_metadata()
    assert md["name"] == "switchyard"
    assert isinstance(md["version"], str) and md["version"] != ""
    for ext in ("binary_tensor_data", "model_repository", "model_configuration", "statistics"):
        assert ext in md["extensions"], f"extension {ext} missing from {md['extensions']}"


def test_model_metadata_simple(client):
    md = client.get_model_metadata("simple")
    assert md["name"] == "simple"
    assert md["versions"] == ["1"]
    assert md["platform"] == "onnxruntime_onnx"
    assert md["inputs"] == [
        {"name": "INPUT0", "datatype": "INT32", "shape": [-1, 16]},
        {"name": "INPUT1", "datatype": "INT32", "shape": [-1, 16]},
    ]
    assert md["outputs"] == [
        {"name": "OUTPUT0", "datatype": "INT32", "shape": [-1, 16]},
        {"name": "OUTPUT1", "datatype": "INT32", "shape": [-1, 16]},
    ]


def test_model_metadata_of_each_version(client):
    md = client.get_model_metadata("tabular")
    assert md["versions"] == ["1", "2"]
    v1 = client.get_model_metadata("tabular", "1")
    assert v1["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [-1, 16]}]
    assert [o["name"] for o in v1["outputs"]] == ["probabilities", "label"]


def test_model_config(client):
    cfg = client.get_model_config("simple")
    assert cfg["name"] == "simple"
    assert cfg["max_batch_size"] == 8
    assert cfg["platform"] == "onnxruntime_onnx"
    assert [(i["name"], i["data_type"], i["dims"]) for i in cfg["input"]] == [("INPUT0", "TYPE_INT32", [16]), ("INPUT1", "TYPE_INT32", [16])]
    assert [(o["name"], o["data_type"], o["dims"]) for o in cfg["output"]] == [("OUTPUT0", "TYPE_INT32", [16]), ("OUTPUT1", "TYPE_INT32", [16])]
    dtypes = client.get_model_config("dtypes")
    assert {i["name"]: i["data_type"] for i in dtypes["input"]}["in_bytes"] == "TYPE_STRING"
    assert len(dtypes["input"]) == len(DTYPES)


def test_unknown_model_metadata_is_404(client):
    with pytest.raises(InferenceServerException) as e:
        client.get_model_metadata("no_such_model")
    assert e.value.status() == "404"
    assert "no_such_model" in e.value.message()


# --- inference -------------------------------------------------------------------------


@pytest.mark.parametrize("binary_data", [True, False], ids=["binary", "json"])
def test_infer_simple(client, binary_data):
    a, b = simple_inputs(rows=3, seed=1)
    outputs = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=binary_data), httpclient.InferRequestedOutput("OUTPUT1", binary_data=binary_data)]
    res = client.infer("simple", simple_request(a, b, binary_data), outputs=outputs, request_id="req-simple")
    assert_same(res.as_numpy("OUTPUT0"), a + b, "OUTPUT0")
    assert_same(res.as_numpy("OUTPUT1"), a - b, "OUTPUT1")
    resp = res.get_response()
    assert resp["model_name"] == "simple"
    assert resp["model_version"] == "1"
    assert resp["id"] == "req-simple"
    for out in resp["outputs"]:
        assert out["datatype"] == "INT32" and out["shape"] == [3, 16]
        # binary outputs say their size; JSON outputs carry "data"
        assert ("binary_data_size" in out.get("parameters", {})) is binary_data
        assert ("data" in out) is not binary_data


def test_infer_json_inputs_binary_outputs(client):
    a, b = simple_inputs(seed=2)
    res = client.infer("simple", simple_request(a, b, binary_data=False), outputs=[httpclient.InferRequestedOutput("OUTPUT0", binary_data=True)])
    assert_same(res.as_numpy("OUTPUT0"), a + b, "OUTPUT0")


def test_output_selection(client):
    a, b = simple_inputs(rows=2, seed=3)
    res = client.infer("simple", simple_request(a, b), outputs=[httpclient.InferRequestedOutput("OUTPUT1")])
    assert [o["name"] for o in res.get_response()["outputs"]] == ["OUTPUT1"]
    assert res.as_numpy("OUTPUT0") is None
    assert_same(res.as_numpy("OUTPUT1"), a - b, "OUTPUT1")


def test_simple_int8_wraps(client):
    a = np.array([[127, -128, 100, -100] * 4], dtype=np.int8)
    b = np.array([[1, 1, 100, 100] * 4], dtype=np.int8)
    inputs = [httpclient.InferInput("INPUT0", [1, 16], "INT8"), httpclient.InferInput("INPUT1", [1, 16], "INT8")]
    inputs[0].set_data_from_numpy(a)
    inputs[1].set_data_from_numpy(b)
    res = client.infer("simple_int8", inputs)
    with np.errstate(over="ignore"):
        assert_same(res.as_numpy("OUTPUT0"), (a + b).astype(np.int8), "OUTPUT0")
        assert_same(res.as_numpy("OUTPUT1"), (a - b).astype(np.int8), "OUTPUT1")


@pytest.mark.parametrize("binary_data", [True, False], ids=["binary", "json"])
def test_simple_string(client, binary_data):
    a, b = simple_inputs(seed=4)
    inputs = [httpclient.InferInput("INPUT0", [1, 16], "BYTES"), httpclient.InferInput("INPUT1", [1, 16], "BYTES")]
    inputs[0].set_data_from_numpy(np.array([str(x).encode() for x in a.flat], dtype=np.object_).reshape(1, 16), binary_data=binary_data)
    inputs[1].set_data_from_numpy(np.array([str(x).encode() for x in b.flat], dtype=np.object_).reshape(1, 16), binary_data=binary_data)
    outputs = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=binary_data), httpclient.InferRequestedOutput("OUTPUT1", binary_data=binary_data)]
    res = client.infer("simple_string", inputs, outputs=outputs)
    assert [int(x) for x in res.as_numpy("OUTPUT0").flat] == (a + b).flatten().tolist()
    assert [int(x) for x in res.as_numpy("OUTPUT1").flat] == (a - b).flatten().tolist()


def test_simple_identity(client):
    data = np.array([[b"hello", "w\u00f6rld".encode(), b""]], dtype=np.object_)
    inp = httpclient.InferInput("INPUT0", [1, 3], "BYTES")
    inp.set_data_from_numpy(data)
    assert_same(client.infer("simple_identity", [inp]).as_numpy("OUTPUT0"), data, "OUTPUT0")


def test_bytes_come_back_byte_identical(client):
    # multi-byte UTF-8, U+FFFD itself, a 4-byte sequence, spaces: all carried exactly
    data = np.array([["\u00e9\u4e2d".encode(), "\ufffd".encode(), "\U0001f600".encode(), b" a b "]], dtype=np.object_)
    inp = httpclient.InferInput("INPUT0", [1, 4], "BYTES")
    inp.set_data_from_numpy(data, binary_data=True)
    out = client.infer("simple_identity", [inp], outputs=[httpclient.InferRequestedOutput("OUTPUT0", binary_data=True)]).as_numpy("OUTPUT0")
    assert [bytes(b) for b in out.flatten()] == [bytes(b) for b in data.flatten()]


@pytest.mark.parametrize(
    "element,why",
    [(b"he\x00llo", "element 1 holds a NUL byte at offset 2"), (b"ok\xff\xfe", "element 1 is not valid UTF-8 from byte offset 2")],
    ids=["nul", "not-utf8"],
)
def test_bytes_onnx_runtime_would_change_are_refused(client, element, why):
    # ONNX Runtime's Node binding cuts strings at NUL and replaces non-UTF-8: a 400, never changed data
    inp = httpclient.InferInput("INPUT0", [1, 2], "BYTES")
    inp.set_data_from_numpy(np.array([[b"fine", element]], dtype=np.object_), binary_data=True)
    err = _bad(client, "simple_identity", [inp])
    assert err.status() == "400"
    assert f'input "INPUT0": {why}' in err.message()


@pytest.mark.parametrize("binary_data", [True, False], ids=["binary", "json"])
def test_every_datatype_round_trips(client, binary_data):
    inputs, outputs, expected = [], [], {}
    for datatype in DTYPES:
        values = dtype_values(datatype)
        inp = httpclient.InferInput(f"in_{datatype.lower()}", list(values.shape), datatype)
        inp.set_data_from_numpy(values, binary_data=binary_data)
        inputs.append(inp)
        outputs.append(httpclient.InferRequestedOutput(f"out_{datatype.lower()}", binary_data=binary_data))
        expected[datatype] = values
    res = client.infer("dtypes", inputs, outputs=outputs)
    by_name = {o["name"]: o for o in res.get_response()["outputs"]}
    for datatype, values in expected.items():
        name = f"out_{datatype.lower()}"
        assert by_name[name]["datatype"] == datatype
        assert by_name[name]["shape"] == list(values.shape)
        actual = res.as_numpy(name)
        if not binary_data and datatype == "BYTES":
            # tritonclient gives JSON BYTES outputs as str (Triton's JSON "data" is text)
            actual = np.array([x.encode() if isinstance(x, str) else x for x in actual.flat], dtype=np.object_).reshape(actual.shape)
        if not binary_data and values.dtype.kind == "f":
            # JSON text has one number for 0.0 and -0.0 in JavaScript's JSON.stringify; compare values
            assert actual is not None and actual.dtype == values.dtype
            assert actual.tolist() == values.tolist(), f"{name}: {actual.tolist()} != {values.tolist()}"
        else:
            assert_same(actual, values, name)


def test_json_output_keeps_negative_zero(client):
    values = np.array([[-0.0, 0.0, -1.0]], dtype=np.float32)
    inputs = []
    for datatype in DTYPES:
        v = values.astype(DTYPES[datatype]) if datatype in ("FP16", "FP32", "FP64") else dtype_values(datatype, (1, 3))
        inp = httpclient.InferInput(f"in_{datatype.lower()}", [1, 3], datatype)
        inp.set_data_from_numpy(v, binary_data=False)
        inputs.append(inp)
    res = client.infer("dtypes", inputs, outputs=[httpclient.InferRequestedOutput("out_fp32", binary_data=False)])
    assert_same(res.as_numpy("out_fp32"), values, "out_fp32")


def test_model_version_is_honoured(client):
    x = np.linspace(-2, 2, 32, dtype=np.float32).reshape(2, 16)
    results = {}
    for version in ("1", "2"):
        inp = httpclient.InferInput("x", [2, 16], "FP32")
        inp.set_data_from_numpy(x)
        res = client.infer("tabular", [inp], model_version=version)
        assert res.get_response()["model_version"] == version
        probs = res.as_numpy("probabilities")
        assert probs.shape == (2, 3)
        np.testing.assert_allclose(probs.sum(axis=1), [1.0, 1.0], rtol=1e-5)
        assert res.as_numpy("label").tolist() == probs.argmax(axis=1).tolist()
        results[version] = probs
    assert not np.allclose(results["1"], results["2"]), "versions 1 and 2 have different weights"


def test_async_infer_with_a_thread_pool(client):
    requests = []
    for seed in range(8):
        a, b = simple_inputs(rows=1 + seed % 4, seed=100 + seed)
        requests.append((a, b, client.async_infer("simple", simple_request(a, b), request_id=f"async-{seed}")))
    for seed, (a, b, pending) in enumerate(requests):
        res = pending.get_result(timeout=30)
        assert res.get_response()["id"] == f"async-{seed}"
        assert_same(res.as_numpy("OUTPUT0"), a + b, f"async-{seed} OUTPUT0")
        assert_same(res.as_numpy("OUTPUT1"), a - b, f"async-{seed} OUTPUT1")


def test_priority_and_timeout_parameters_are_accepted(client):
    a, b = simple_inputs(seed=5)
    res = client.infer("simple", simple_request(a, b), priority=1, timeout=10_000_000)
    assert_same(res.as_numpy("OUTPUT0"), a + b, "OUTPUT0")


def test_statistics_move_after_an_infer(client):
    def stats():
        [s] = client.get_inference_statistics("simple_identity")["model_stats"]
        assert s["name"] == "simple_identity" and s["version"] == "1"
        return s

    before = stats()
    data = np.array([[b"a"], [b"b"], [b"c"]], dtype=np.object_)
    inp = httpclient.InferInput("INPUT0", [3, 1], "BYTES")
    inp.set_data_from_numpy(data)
    client.infer("simple_identity", [inp])
    after = stats()
    assert after["inference_count"] == before["inference_count"] + 3
    assert after["execution_count"] == before["execution_count"] + 1
    assert after["inference_stats"]["success"]["count"] == before["inference_stats"]["success"]["count"] + 1
    assert after["inference_stats"]["success"]["ns"] > before["inference_stats"]["success"]["ns"]
    assert after["last_inference"] >= before["last_inference"] and after["last_inference"] > 0
    assert any(b["batch_size"] == 3 for b in after["batch_stats"])
    every = client.get_inference_statistics()["model_stats"]
    assert {("simple", "1"), ("tabular", "1"), ("tabular", "2")} <= {(s["name"], s["version"]) for s in every}


# --- bad requests ------------------------------------------------------------------------


def _bad(client, model, inputs, outputs=None):
    with pytest.raises(InferenceServerException) as e:
        client.infer(model, inputs, outputs=outputs)
    return e.value


def test_wrong_shape_is_rejected(client):
    a = np.zeros((1, 8), dtype=np.int32)
    err = _bad(client, "simple", simple_request(a, a))
    assert err.status() == "400"
    assert "INPUT0" in err.message() and "[1,8]" in err.message() and "16" in err.message()


def test_wrong_datatype_is_rejected(client):
    a, b = simple_inputs(seed=6)
    wrong = httpclient.InferInput("INPUT0", [1, 16], "FP32")
    wrong.set_data_from_numpy(a.astype(np.float32))
    good = httpclient.InferInput("INPUT1", [1, 16], "INT32")
    good.set_data_from_numpy(b)
    err = _bad(client, "simple", [wrong, good])
    assert err.status() == "400"
    assert "INPUT0" in err.message() and "FP32" in err.message() and "INT32" in err.message()


def test_unknown_input_name_is_rejected(client):
    a, b = simple_inputs(seed=7)
    inputs = simple_request(a, b)
    extra = httpclient.InferInput("INPUT9", [1, 16], "INT32")
    extra.set_data_from_numpy(a)
    err = _bad(client, "simple", inputs + [extra])
    assert err.status() == "400"
    assert "INPUT9" in err.message()


def test_missing_input_is_rejected(client):
    a, _ = simple_inputs(seed=8)
    err = _bad(client, "simple", simple_request(a, a)[:1])
    assert err.status() == "400"
    assert "INPUT1" in err.message()


def test_unknown_output_is_rejected(client):
    a, b = simple_inputs(seed=9)
    err = _bad(client, "simple", simple_request(a, b), outputs=[httpclient.InferRequestedOutput("OUTPUT9")])
    assert err.status() == "400"
    assert "OUTPUT9" in err.message()


def test_batch_larger_than_max_batch_size_is_rejected(client):
    a, b = simple_inputs(rows=9, seed=10)
    err = _bad(client, "simple", simple_request(a, b))
    assert err.status() == "400"
    assert "9" in err.message() and "8" in err.message()


def test_unknown_model_is_rejected(client):
    a, b = simple_inputs(seed=11)
    err = _bad(client, "no_such_model", simple_request(a, b))
    assert err.status() == "404"
    assert "no_such_model" in err.message()


def test_server_keeps_serving_after_bad_requests(client):
    a, b = simple_inputs(seed=12)
    assert_same(client.infer("simple", simple_request(a, b)).as_numpy("OUTPUT0"), a + b, "OUTPUT0")


# --- model repository (a gateway of its own: the test unloads models) --------------------


def test_repository_index_load_unload(start_gateway):
    gw = start_gateway(models=["simple", "simple_int8"])
    c = httpclient.InferenceServerClient(gw.http)
    try:
        index = c.get_model_repository_index()
        assert [(m["name"], m["version"], m["state"]) for m in index] == [("simple", "1", "READY"), ("simple_int8", "1", "READY")]

        c.unload_model("simple")
        assert c.is_model_ready("simple") is False
        assert c.is_model_ready("simple_int8") is True
        states = {m["name"]: m.get("state") for m in c.get_model_repository_index()}
        assert states["simple_int8"] == "READY"
        assert states.get("simple") in (None, "UNAVAILABLE"), states
        a, b = simple_inputs(seed=13)
        with pytest.raises(InferenceServerException):
            c.infer("simple", simple_request(a, b))

        c.load_model("simple")
        assert c.is_model_ready("simple") is True
        assert_same(c.infer("simple", simple_request(a, b)).as_numpy("OUTPUT0"), a + b, "OUTPUT0 after load")

        # loading a loaded model reloads it and keeps serving
        c.load_model("simple")
        assert c.is_model_ready("simple") is True
        assert_same(c.infer("simple", simple_request(a, b)).as_numpy("OUTPUT1"), a - b, "OUTPUT1 after re-load")

        with pytest.raises(InferenceServerException) as e:
            c.load_model("no_such_model")
        assert "no_such_model" in e.value.message()
    finally:
        c.close()


def test_repository_calls_need_the_admin_token_when_one_is_set(start_gateway):
    gw = start_gateway({"admin_token": "s3cret"}, models=["simple"])
    c = httpclient.InferenceServerClient(gw.http)
    try:
        with pytest.raises(InferenceServerException) as e:
            c.unload_model("simple")
        assert e.value.status() == "401"
        c.unload_model("simple", headers={"Authorization": "Bearer s3cret"})
        assert c.is_model_ready("simple") is False
        c.load_model("simple", headers={"Authorization": "Bearer s3cret"})
        assert c.is_model_ready("simple") is True
    finally:
        c.close()
