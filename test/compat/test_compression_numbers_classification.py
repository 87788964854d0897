"""Issue 12, gaps 6, 9 and 10 with Triton's own clients: compressed HTTP (request and response)
and gRPC, JSON numbers as Triton reads and writes them (NaN/Infinity tokens, exact 64-bit
integers), and the classification extension (class_count) over HTTP and gRPC."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from compat_util import DTYPES, assert_same, dtype_values, simple_inputs

CODINGS = ["gzip", "deflate"]
TABULAR_LABELS = ["low", "medium", "high"]


def _simple_http(a: np.ndarray, b: np.ndarray) -> list:
    i0 = httpclient.InferInput("INPUT0", list(a.shape), "INT32")
    i0.set_data_from_numpy(a)
    i1 = httpclient.InferInput("INPUT1", list(b.shape), "INT32")
    i1.set_data_from_numpy(b)
    return [i0, i1]


def _dtypes_inputs(module, given: dict[str, np.ndarray], binary_data: bool = True) -> list:
    """Every input of the `dtypes` model (it needs them all): `given` ones, the rest [1, 1]."""
    inputs = []
    for dt in DTYPES:
        value = given.get(dt)
        if value is None:
            value = dtype_values(dt, (1, 1))
        inp = module.InferInput(f"in_{dt.lower()}", list(value.shape), dt)
        if module is httpclient:
            inp.set_data_from_numpy(value, binary_data=binary_data)
        else:
            inp.set_data_from_numpy(value)
        inputs.append(inp)
    return inputs


@pytest.mark.parametrize("request_coding", [None, *CODINGS])
@pytest.mark.parametrize("response_coding", [None, *CODINGS])
def test_http_compressed_request_and_response(gateway, request_coding, response_coding):
    client = httpclient.InferenceServerClient(gateway.http)
    a, b = simple_inputs(rows=4, seed=3)
    result = client.infer(
        "simple",
        _simple_http(a, b),
        request_compression_algorithm=request_coding,
        response_compression_algorithm=response_coding,
    )
    np.testing.assert_array_equal(result.as_numpy("OUTPUT0"), a + b)
    np.testing.assert_array_equal(result.as_numpy("OUTPUT1"), a - b)


@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize("binary_data", [True, False])
def test_http_large_compressed_response_decodes_in_tritonclient(gateway, coding, binary_data):
    """A response large enough to be compressed: tritonclient undoes the coding and then reads
    the binary tensors after Inference-Header-Content-Length (the uncompressed JSON's length)."""
    client = httpclient.InferenceServerClient(gateway.http)
    values = np.linspace(-3, 3, 4000, dtype=np.float32).reshape(1, 4000)
    inputs = _dtypes_inputs(httpclient, {"FP32": values}, binary_data=binary_data)
    outputs = [httpclient.InferRequestedOutput("out_fp32", binary_data=binary_data), httpclient.InferRequestedOutput("out_int32", binary_data=binary_data)]
    result = client.infer("dtypes", inputs, outputs=outputs, request_compression_algorithm=coding, response_compression_algorithm=coding)
    assert_same(result.as_numpy("out_fp32"), values, "out_fp32")
    assert_same(result.as_numpy("out_int32"), dtype_values("INT32", (1, 1)), "out_int32")


def _raw_post(gateway, path: str, body: bytes, headers: dict[str, str]):
    req = urllib.request.Request(f"{gateway.http_url}{path}", data=body, method="POST", headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, {k.lower(): v for k, v in res.headers.items()}, res.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def _simple_json() -> bytes:
    a, b = simple_inputs(rows=8, seed=5)
    return json.dumps(
        {
            "inputs": [
                {"name": "INPUT0", "datatype": "INT32", "shape": [8, 16], "data": a.flatten().tolist()},
                {"name": "INPUT1", "datatype": "INT32", "shape": [8, 16], "data": b.flatten().tolist()},
            ]
        }
    ).encode()


def test_http_compression_is_on_the_wire(gateway):
    """What tritonclient cannot show: the answer really is gzip with Accept-Encoding: gzip."""
    status, headers, body = _raw_post(gateway, "/v2/models/simple/infer", gzip.compress(_simple_json()), {"Content-Encoding": "gzip", "Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("content-encoding") == "gzip"
    assert len(json.loads(gzip.decompress(body))["outputs"]) == 2


def test_http_compressed_bad_input(gateway, start_gateway):
    status, _, body = _raw_post(gateway, "/v2/models/simple/infer", _simple_json(), {"Content-Encoding": "br"})
    assert status == 415
    assert "gzip or deflate" in json.loads(body)["error"]
    status, _, body = _raw_post(gateway, "/v2/models/simple/infer", b"\x1f\x8b\x08\x00 definitely not gzip", {"Content-Encoding": "gzip"})
    assert status == 400
    assert json.loads(body)["error"].startswith("request body is not valid gzip data")
    # 64 MiB of spaces in ~65 kB: far over a 1 MiB http.max_body_bytes once decoded
    small = start_gateway(extra_config={"http": {"max_body_bytes": 1 << 20}}, models=["simple"])
    bomb = gzip.compress(b" " * (64 << 20), compresslevel=9)
    assert len(bomb) < 1 << 20
    status, _, body = _raw_post(small, "/v2/models/simple/infer", bomb, {"Content-Encoding": "gzip"})
    assert status == 413
    assert "to more than the limit of 1048576 bytes (http.max_body_bytes)" in json.loads(body)["error"]
    status, _, _ = _raw_post(small, "/v2/models/simple/infer", gzip.compress(_simple_json()), {"Content-Encoding": "gzip"})
    assert status == 200
    assert small.alive()


@pytest.mark.parametrize("coding", CODINGS)
def test_grpc_compression(gateway, coding):
    client = grpcclient.InferenceServerClient(gateway.grpc)
    a, b = simple_inputs(rows=2, seed=9)
    i0 = grpcclient.InferInput("INPUT0", list(a.shape), "INT32")
    i0.set_data_from_numpy(a)
    i1 = grpcclient.InferInput("INPUT1", list(b.shape), "INT32")
    i1.set_data_from_numpy(b)
    result = client.infer("simple", [i0, i1], compression_algorithm=coding)
    np.testing.assert_array_equal(result.as_numpy("OUTPUT0"), a + b)
    np.testing.assert_array_equal(result.as_numpy("OUTPUT1"), a - b)


def test_http_json_non_finite_floats_and_64_bit_extremes(gateway):
    """binary_data=False: tritonclient writes NaN/Infinity as json.dumps does (bare tokens) and
    64-bit integers as exact digits; the answer comes back the same way, every bit kept."""
    client = httpclient.InferenceServerClient(gateway.http)
    given = {
        "FP32": np.array([[np.nan, np.inf, -np.inf, 1.5, -0.0]], dtype=np.float32),
        "FP64": np.array([[-np.inf, np.nan, np.finfo(np.float64).max]], dtype=np.float64),
        "FP16": np.array([[np.inf, -np.inf, np.float16(65504)]], dtype=np.float16),
        "INT64": np.array([[2**63 - 1, -(2**63), 2**53 + 1, -(2**53) - 1]], dtype=np.int64),
        "UINT64": np.array([[2**64 - 1, 2**53 + 1, 0]], dtype=np.uint64),
    }
    inputs = _dtypes_inputs(httpclient, given, binary_data=False)
    outputs = [httpclient.InferRequestedOutput(f"out_{dt.lower()}", binary_data=False) for dt in given]
    result = client.infer("dtypes", inputs, outputs=outputs)
    for dt, value in given.items():
        got = result.as_numpy(f"out_{dt.lower()}")
        assert got is not None and got.shape == value.shape, dt
        if dt.startswith("FP"):
            # NaN payloads are not kept through JSON; NaN-ness, infinities and -0.0 are
            np.testing.assert_array_equal(np.isnan(got), np.isnan(value))
            np.testing.assert_array_equal(np.signbit(got), np.signbit(value))
            np.testing.assert_array_equal(np.nan_to_num(got.astype(value.dtype)), np.nan_to_num(value))
        else:
            assert_same(got.astype(value.dtype), value, dt)


def _tabular_rows(n: int) -> np.ndarray:
    return np.random.default_rng(11).uniform(-2, 2, size=(n, 16)).astype(np.float32)


def _top_k(probs: np.ndarray, k: int) -> list[list[bytes]]:
    out = []
    for row in probs:
        order = sorted(range(len(row)), key=lambda i: (-float(row[i]), i))[:k]
        out.append([f"{float(row[i]):f}:{i}:{TABULAR_LABELS[i]}".encode() for i in order])
    return out


@pytest.mark.parametrize("binary_data", [True, False])
def test_http_classification(gateway, binary_data):
    client = httpclient.InferenceServerClient(gateway.http)
    rows = _tabular_rows(3)
    x = httpclient.InferInput("x", list(rows.shape), "FP32")
    x.set_data_from_numpy(rows)
    probs = client.infer("tabular", [x]).as_numpy("probabilities")
    result = client.infer("tabular", [x], outputs=[httpclient.InferRequestedOutput("probabilities", binary_data=binary_data, class_count=2)])
    classes = result.as_numpy("probabilities")
    assert classes.shape == (3, 2)
    # binary BYTES come back as bytes, JSON ones as str
    want = _top_k(probs, 2) if binary_data else [[s.decode() for s in r] for r in _top_k(probs, 2)]
    assert classes.tolist() == want
    # more classes than the model has: all of them (Triton clamps)
    all_classes = client.infer("tabular", [x], outputs=[httpclient.InferRequestedOutput("probabilities", class_count=10)]).as_numpy("probabilities")
    assert all_classes.tolist() == _top_k(probs, 3)
    config = client.get_model_config("tabular")
    assert [o.get("label_filename") for o in config["output"] if o["name"] == "probabilities"] == ["labels.txt"]
    assert "classification" in client.get_server_metadata()["extensions"]


def test_grpc_classification(gateway):
    client = grpcclient.InferenceServerClient(gateway.grpc)
    rows = _tabular_rows(2)
    x = grpcclient.InferInput("x", list(rows.shape), "FP32")
    x.set_data_from_numpy(rows)
    probs = client.infer("tabular", [x]).as_numpy("probabilities")
    classes = client.infer("tabular", [x], outputs=[grpcclient.InferRequestedOutput("probabilities", class_count=3)]).as_numpy("probabilities")
    assert classes.shape == (2, 3)
    assert classes.tolist() == _top_k(probs, 3)


def test_classification_of_a_non_numeric_output_is_refused(gateway):
    words = np.array([[str(i).encode() for i in range(16)]], dtype=np.object_)
    hc = httpclient.InferenceServerClient(gateway.http)
    inputs = []
    for name in ("INPUT0", "INPUT1"):
        inp = httpclient.InferInput(name, [1, 16], "BYTES")
        inp.set_data_from_numpy(words)
        inputs.append(inp)
    with pytest.raises(InferenceServerException) as err:
        hc.infer("simple_string", inputs, outputs=[httpclient.InferRequestedOutput("OUTPUT0", class_count=2)])
    assert "classification needs a numeric output" in err.value.message()
    gc = grpcclient.InferenceServerClient(gateway.grpc)
    ginputs = []
    for name in ("INPUT0", "INPUT1"):
        inp = grpcclient.InferInput(name, [1, 16], "BYTES")
        inp.set_data_from_numpy(words)
        ginputs.append(inp)
    with pytest.raises(InferenceServerException) as gerr:
        gc.infer("simple_string", ginputs, outputs=[grpcclient.InferRequestedOutput("OUTPUT0", class_count=2)])
    assert gerr.value.status() == "StatusCode.INVALID_ARGUMENT"
