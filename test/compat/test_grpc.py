"""tritonclient.grpc (the synchronous gRPC client, with its callback and streaming calls)."""

from __future__ import annotations

import queue

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

from compat_util import DTYPES, assert_same, dtype_values, simple_inputs


@pytest.fixture(scope="module")
def client(gateway):
    c = grpcclient.InferenceServerClient(gateway.grpc)
    yield c
    c.close()


def simple_request(a: np.ndarray, b: np.ndarray) -> list[grpcclient.InferInput]:
    inputs = [grpcclient.InferInput("INPUT0", list(a.shape), "INT32"), grpcclient.InferInput("INPUT1", list(b.shape), "INT32")]
    inputs[0].set_data_from_numpy(a)
    inputs[1].set_data_from_numpy(b)
    return inputs


# --- health and metadata ---------------------------------------------------------------


def test_health_live_and_ready(client):
    assert client.is_server_live() is True
    assert client.is_server_ready() is True
    assert client.is_model_ready("simple") is True
    assert client.is_model_ready("tabular", "2") is True


def test_model_ready_of_an_unknown_model_is_false(client):
    assert client.is_model_ready("no_such_model") is False
    assert client.is_model_ready("tabular", "3") is False


def test_server_metadata(client):
    md = client.get_server_metadata()
    assert md.name == "switchyard"
    assert md.version != ""
    # binary_tensor_data is an HTTP extension; switchyard lists it on GET /v2 only
    assert {"model_repository", "model_configuration", "statistics"} <= set(md.extensions)
    as_json = client.get_server_metadata(as_json=True)
    assert as_json["name"] == "switchyard"


def test_model_metadata(client):
    md = client.get_model_metadata("simple")
    assert md.name == "simple"
    assert list(md.versions) == ["1"]
    assert md.platform == "onnxruntime_onnx"
    assert [(t.name, t.datatype, list(t.shape)) for t in md.inputs] == [("INPUT0", "INT32", [-1, 16]), ("INPUT1", "INT32", [-1, 16])]
    assert [(t.name, t.datatype, list(t.shape)) for t in md.outputs] == [("OUTPUT0", "INT32", [-1, 16]), ("OUTPUT1", "INT32", [-1, 16])]
    tab = client.get_model_metadata("tabular", as_json=True)
    assert tab["versions"] == ["1", "2"]


def test_model_config(client):
    cfg = client.get_model_config("simple").config
    assert cfg.name == "simple"
    assert cfg.max_batch_size == 8
    assert cfg.platform == "onnxruntime_onnx"
    assert [(i.name, i.data_type, list(i.dims)) for i in cfg.input] == [("INPUT0", 8, [16]), ("INPUT1", 8, [16])]  # 8 = TYPE_INT32
    as_json = client.get_model_config("dtypes", as_json=True)["config"]
    assert {i["name"]: i["data_type"] for i in as_json["input"]}["in_fp16"] == "TYPE_FP16"
    assert len(as_json["output"]) == len(DTYPES)


def test_unknown_model_metadata_is_not_found(client):
    with pytest.raises(InferenceServerException) as e:
        client.get_model_metadata("no_such_model")
    assert e.value.status() == "StatusCode.NOT_FOUND"
    assert "no_such_model" in e.value.message()


# --- inference -------------------------------------------------------------------------


def test_infer_simple(client):
    a, b = simple_inputs(rows=4, seed=21)
    res = client.infer("simple", simple_request(a, b), request_id="g-1")
    assert_same(res.as_numpy("OUTPUT0"), a + b, "OUTPUT0")
    assert_same(res.as_numpy("OUTPUT1"), a - b, "OUTPUT1")
    resp = res.get_response()
    assert resp.model_name == "simple" and resp.model_version == "1" and resp.id == "g-1"
    assert [(o.name, o.datatype, list(o.shape)) for o in resp.outputs] == [("OUTPUT0", "INT32", [4, 16]), ("OUTPUT1", "INT32", [4, 16])]


def test_output_selection(client):
    a, b = simple_inputs(rows=2, seed=22)
    res = client.infer("simple", simple_request(a, b), outputs=[grpcclient.InferRequestedOutput("OUTPUT1")])
    assert [o.name for o in res.get_response().outputs] == ["OUTPUT1"]
    assert res.as_numpy("OUTPUT0") is None
    assert_same(res.as_numpy("OUTPUT1"), a - b, "OUTPUT1")


def test_simple_string(client):
    a, b = simple_inputs(seed=23)
    inputs = [grpcclient.InferInput("INPUT0", [1, 16], "BYTES"), grpcclient.InferInput("INPUT1", [1, 16], "BYTES")]
    inputs[0].set_data_from_numpy(np.array([str(x).encode() for x in a.flat], dtype=np.object_).reshape(1, 16))
    inputs[1].set_data_from_numpy(np.array([str(x).encode() for x in b.flat], dtype=np.object_).reshape(1, 16))
    res = client.infer("simple_string", inputs)
    assert [int(x) for x in res.as_numpy("OUTPUT0").flat] == (a + b).flatten().tolist()
    assert [int(x) for x in res.as_numpy("OUTPUT1").flat] == (a - b).flatten().tolist()


def test_bytes_come_back_byte_identical(client):
    data = np.array([["\u00e9\u4e2d".encode(), "\ufffd".encode(), "\U0001f600".encode(), b" a b "]], dtype=np.object_)
    inp = grpcclient.InferInput("INPUT0", [1, 4], "BYTES")
    inp.set_data_from_numpy(data)
    out = client.infer("simple_identity", [inp]).as_numpy("OUTPUT0")
    assert [bytes(b) for b in out.flatten()] == [bytes(b) for b in data.flatten()]


@pytest.mark.parametrize(
    "element,why",
    [(b"he\x00llo", "element 1 holds a NUL byte at offset 2"), (b"ok\xff\xfe", "element 1 is not valid UTF-8 from byte offset 2")],
    ids=["nul", "not-utf8"],
)
def test_bytes_onnx_runtime_would_change_are_refused(client, element, why):
    inp = grpcclient.InferInput("INPUT0", [1, 2], "BYTES")
    inp.set_data_from_numpy(np.array([[b"fine", element]], dtype=np.object_))
    err = _bad(client, "simple_identity", [inp])
    assert err.status() == "StatusCode.INVALID_ARGUMENT"
    assert f'input "INPUT0": {why}' in err.message()


def test_every_datatype_round_trips(client):
    inputs, expected = [], {}
    for datatype in DTYPES:
        values = dtype_values(datatype, (3, 2))
        inp = grpcclient.InferInput(f"in_{datatype.lower()}", list(values.shape), datatype)
        inp.set_data_from_numpy(values)
        inputs.append(inp)
        expected[datatype] = values
    res = client.infer("dtypes", inputs)
    by_name = {o.name: o for o in res.get_response().outputs}
    for datatype, values in expected.items():
        name = f"out_{datatype.lower()}"
        assert by_name[name].datatype == datatype
        assert list(by_name[name].shape) == list(values.shape)
        assert_same(res.as_numpy(name), values, name)


def test_priority_and_timeout_parameters_are_accepted(client):
    a, b = simple_inputs(seed=24)
    res = client.infer("simple", simple_request(a, b), priority=1, timeout=10_000_000)
    assert_same(res.as_numpy("OUTPUT1"), a - b, "OUTPUT1")


def test_async_infer_callback(client):
    done: queue.Queue = queue.Queue()
    sent = {}
    for seed in range(6):
        a, b = simple_inputs(rows=1 + seed % 3, seed=200 + seed)
        rid = f"cb-{seed}"
        sent[rid] = (a, b)
        client.async_infer("simple", simple_request(a, b), callback=lambda result, error, rid=rid: done.put((rid, result, error)), request_id=rid)
    for _ in sent:
        rid, result, error = done.get(timeout=30)
        assert error is None, f"{rid}: {error}"
        assert result.get_response().id == rid
        a, b = sent[rid]
        assert_same(result.as_numpy("OUTPUT0"), a + b, f"{rid} OUTPUT0")
        assert_same(result.as_numpy("OUTPUT1"), a - b, f"{rid} OUTPUT1")


def test_async_infer_callback_gets_errors(client):
    done: queue.Queue = queue.Queue()
    a, b = simple_inputs(seed=25)
    client.async_infer("no_such_model", simple_request(a, b), callback=lambda result, error: done.put((result, error)))
    result, error = done.get(timeout=30)
    assert result is None
    assert isinstance(error, InferenceServerException)
    assert error.status() == "StatusCode.NOT_FOUND" and "no_such_model" in error.message()


def test_stream_answers_carry_the_request_ids(client):
    done: queue.Queue = queue.Queue()
    client.start_stream(callback=lambda result, error: done.put((result, error)))
    try:
        sent = {}
        for seed in range(12):
            a, b = simple_inputs(rows=1 + seed % 4, seed=300 + seed)
            rid = f"stream-{seed}"
            sent[rid] = (a, b)
            client.async_stream_infer("simple", simple_request(a, b), request_id=rid)
        seen = set()
        for _ in sent:
            result, error = done.get(timeout=30)
            assert error is None, str(error)
            rid = result.get_response().id
            assert rid in sent and rid not in seen, f"unexpected or repeated id {rid!r}"
            seen.add(rid)
            a, b = sent[rid]
            assert_same(result.as_numpy("OUTPUT0"), a + b, f"{rid} OUTPUT0")
            assert_same(result.as_numpy("OUTPUT1"), a - b, f"{rid} OUTPUT1")
        assert seen == set(sent)
    finally:
        client.stop_stream()


def test_stream_error_is_delivered_and_the_stream_goes_on(client):
    done: queue.Queue = queue.Queue()
    client.start_stream(callback=lambda result, error: done.put((result, error)))
    try:
        a, b = simple_inputs(seed=26)
        wrong = np.zeros((1, 8), dtype=np.int32)
        client.async_stream_infer("simple", simple_request(wrong, wrong), request_id="bad")
        client.async_stream_infer("simple", simple_request(a, b), request_id="good")
        answers = [done.get(timeout=30) for _ in range(2)]
    finally:
        client.stop_stream()
    errors = [e for r, e in answers if e is not None]
    results = [r for r, e in answers if e is None]
    assert len(errors) == 1 and len(results) == 1, answers
    assert "INPUT0" in errors[0].message() and "16" in errors[0].message()
    assert results[0].get_response().id == "good"
    assert_same(results[0].as_numpy("OUTPUT0"), a + b, "OUTPUT0")


def test_client_deadline_is_deadline_exceeded(client):
    x = np.random.default_rng(27).random((64, 512), dtype=np.float32)
    inp = grpcclient.InferInput("x", [64, 512], "FP32")
    inp.set_data_from_numpy(x)
    with pytest.raises(InferenceServerException) as e:
        client.infer("heavy", [inp], client_timeout=0.001)
    assert e.value.status() == "StatusCode.DEADLINE_EXCEEDED"
    # the gateway is unharmed and the same request succeeds without a deadline
    res = client.infer("heavy", [inp], client_timeout=30)
    assert res.as_numpy("y").shape == (64, 512)


def test_statistics_move_after_an_infer(client):
    def stats():
        [s] = client.get_inference_statistics("simple_int8").model_stats
        return s

    before = stats()
    a = np.ones((2, 16), dtype=np.int8)
    inputs = [grpcclient.InferInput("INPUT0", [2, 16], "INT8"), grpcclient.InferInput("INPUT1", [2, 16], "INT8")]
    inputs[0].set_data_from_numpy(a)
    inputs[1].set_data_from_numpy(a)
    client.infer("simple_int8", inputs)
    after = stats()
    assert after.name == "simple_int8" and after.version == "1"
    assert after.inference_count == before.inference_count + 2
    assert after.execution_count == before.execution_count + 1
    assert after.inference_stats.success.count == before.inference_stats.success.count + 1
    assert after.inference_stats.success.ns > before.inference_stats.success.ns
    assert after.last_inference > 0


# --- bad requests ------------------------------------------------------------------------


def _bad(client, model, inputs, outputs=None):
    with pytest.raises(InferenceServerException) as e:
        client.infer(model, inputs, outputs=outputs)
    return e.value


def test_wrong_shape_is_rejected(client):
    a = np.zeros((1, 8), dtype=np.int32)
    err = _bad(client, "simple", simple_request(a, a))
    assert err.status() == "StatusCode.INVALID_ARGUMENT"
    assert "INPUT0" in err.message() and "[1,8]" in err.message() and "16" in err.message()


def test_wrong_datatype_is_rejected(client):
    a, b = simple_inputs(seed=28)
    wrong = grpcclient.InferInput("INPUT0", [1, 16], "FP32")
    wrong.set_data_from_numpy(a.astype(np.float32))
    good = grpcclient.InferInput("INPUT1", [1, 16], "INT32")
    good.set_data_from_numpy(b)
    err = _bad(client, "simple", [wrong, good])
    assert err.status() == "StatusCode.INVALID_ARGUMENT"
    assert "INPUT0" in err.message() and "FP32" in err.message() and "INT32" in err.message()


def test_unknown_input_name_is_rejected(client):
    a, b = simple_inputs(seed=29)
    extra = grpcclient.InferInput("INPUT9", [1, 16], "INT32")
    extra.set_data_from_numpy(a)
    err = _bad(client, "simple", simple_request(a, b) + [extra])
    assert err.status() == "StatusCode.INVALID_ARGUMENT"
    assert "INPUT9" in err.message()


def test_unknown_output_is_rejected(client):
    a, b = simple_inputs(seed=30)
    err = _bad(client, "simple", simple_request(a, b), outputs=[grpcclient.InferRequestedOutput("OUTPUT9")])
    assert err.status() == "StatusCode.INVALID_ARGUMENT"
    assert "OUTPUT9" in err.message()


def test_unknown_model_is_rejected(client):
    a, b = simple_inputs(seed=31)
    err = _bad(client, "no_such_model", simple_request(a, b))
    assert err.status() == "StatusCode.NOT_FOUND"
    assert "no_such_model" in err.message()


# --- model repository (a gateway of its own: the test unloads models) --------------------


def test_repository_index_load_unload(start_gateway):
    gw = start_gateway(models=["simple", "tabular"])
    c = grpcclient.InferenceServerClient(gw.grpc)
    try:
        index = c.get_model_repository_index()
        assert [(m.name, m.version, m.state) for m in index.models] == [("simple", "1", "READY"), ("tabular", "1", "READY"), ("tabular", "2", "READY")]

        c.unload_model("tabular")
        assert c.is_model_ready("tabular") is False
        assert c.is_model_ready("simple") is True
        states = {(m.name, m.version): m.state for m in c.get_model_repository_index().models}
        assert states[("simple", "1")] == "READY"
        assert all(state == "UNAVAILABLE" for key, state in states.items() if key[0] == "tabular"), states

        c.load_model("tabular")
        assert c.is_model_ready("tabular", "1") is True and c.is_model_ready("tabular", "2") is True
        x = np.zeros((1, 16), dtype=np.float32)
        inp = grpcclient.InferInput("x", [1, 16], "FP32")
        inp.set_data_from_numpy(x)
        assert c.infer("tabular", [inp]).as_numpy("probabilities").shape == (1, 3)

        c.load_model("tabular")  # re-load of a loaded model
        assert c.is_model_ready("tabular") is True

        with pytest.raises(InferenceServerException) as e:
            c.load_model("no_such_model")
        assert "no_such_model" in e.value.message()
    finally:
        c.close()
