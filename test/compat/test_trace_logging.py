"""Triton's trace and logging extensions through tritonclient.http and tritonclient.grpc:
get/update_trace_settings (global and per model) mapped onto switchyard's OpenTelemetry
spans, and get/update_log_settings changing what the server logs while it runs.

Spans are checked with OTEL_TRACES_EXPORTER=console, which prints each finished span to the
gateway's stdout (`name: 'infer'` once per traced request).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

PROTOCOLS = ["http", "grpc"]
DEFAULTS = {"trace_level": ["OFF"], "trace_rate": "1", "trace_count": "-1", "log_frequency": "0", "trace_file": "", "trace_mode": "opentelemetry"}


def client(gw, protocol: str):
    return httpclient.InferenceServerClient(gw.http) if protocol == "http" else grpcclient.InferenceServerClient(gw.grpc)


def trace_settings(c, protocol: str, model: str | None = None) -> dict:
    """The settings as REST writes them (gRPC answers lists of strings: one-element lists unwrapped)."""
    if protocol == "http":
        return c.get_trace_settings(model_name=model)
    got = c.get_trace_settings(model_name=model, as_json=True)["settings"]
    return {k: (v["value"] if k == "trace_level" else v["value"][0]) for k, v in got.items()}


def update_trace(c, protocol: str, settings: dict, model: str | None = None, headers=None) -> dict:
    r = c.update_trace_settings(model_name=model, settings=settings, headers=headers, **({} if protocol == "http" else {"as_json": True}))
    if protocol == "http":
        return r
    return {k: (v["value"] if k == "trace_level" else v["value"][0]) for k, v in r["settings"].items()}


def log_settings(c, protocol: str) -> dict:
    if protocol == "http":
        return c.get_log_settings()
    got = c.get_log_settings(as_json=True)["settings"]
    return {k: next(iter(v.values())) for k, v in got.items()}


def infer_simple(c, protocol: str) -> None:
    mod = httpclient if protocol == "http" else grpcclient
    inputs = [mod.InferInput("INPUT0", [1, 16], "INT32"), mod.InferInput("INPUT1", [1, 16], "INT32")]
    for i in inputs:
        i.set_data_from_numpy(np.arange(16, dtype=np.int32).reshape(1, 16))
    c.infer("simple", inputs)


def spans(gw) -> int:
    return gw.log_text().count("name: 'infer'")


def wait_for(cond, what: str, timeout_s: float = 5.0) -> None:
    until = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > until:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_trace_settings_global_and_per_model(gateway, protocol):
    c = client(gateway, protocol)
    assert trace_settings(c, protocol) == DEFAULTS
    try:
        after = update_trace(c, protocol, {"trace_rate": "10", "trace_count": "5", "log_frequency": "2"})
        assert after == {**DEFAULTS, "trace_rate": "10", "trace_count": "5", "log_frequency": "2"}
        # a model's own setting overrides the global one for that model only
        m = update_trace(c, protocol, {"trace_rate": "3"}, model="simple")
        assert (m["trace_rate"], m["trace_count"]) == ("3", "5")
        assert trace_settings(c, protocol, "simple")["trace_rate"] == "3"
        assert trace_settings(c, protocol)["trace_rate"] == "10"
        # None clears the model's setting: it follows the global one again
        cleared = update_trace(c, protocol, {"trace_rate": None}, model="simple")
        assert cleared["trace_rate"] == "10"
        with pytest.raises(InferenceServerException, match=r"Request for unknown model: 'no_such_model'"):
            c.get_trace_settings(model_name="no_such_model")
        with pytest.raises(InferenceServerException, match=r"Unable to parse 'trace_rate'"):
            update_trace(c, protocol, {"trace_rate": "often"})
        with pytest.raises(InferenceServerException, match=r"trace level TENSORS .* is not supported"):
            update_trace(c, protocol, {"trace_level": ["TENSORS"]})
        # no exporter on the session gateway: tracing cannot be turned on
        with pytest.raises(InferenceServerException, match=r"no OpenTelemetry exporter is configured"):
            update_trace(c, protocol, {"trace_level": ["TIMESTAMPS"]})
        with pytest.raises(InferenceServerException, match=r"trace file location can not be updated"):
            update_trace(c, protocol, {"trace_file": "/tmp/trace.json"})
    finally:
        update_trace(c, protocol, {"trace_rate": None, "trace_count": None, "log_frequency": None})
    assert trace_settings(c, protocol) == DEFAULTS


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_trace_settings_decide_which_requests_get_spans(start_gateway, protocol):
    gw = start_gateway(env={"OTEL_TRACES_EXPORTER": "console", "OTEL_EXPORTER_OTLP_ENDPOINT": None}, models=["simple"])
    c = client(gw, protocol)
    assert trace_settings(c, protocol)["trace_level"] == ["TIMESTAMPS"]
    infer_simple(c, protocol)
    wait_for(lambda: spans(gw) == 1, "the first request's span")

    # one request in three
    update_trace(c, protocol, {"trace_rate": "3"})
    for _ in range(6):
        infer_simple(c, protocol)
    wait_for(lambda: spans(gw) == 3, "two more spans (6 requests at rate 3)")

    # two more traces, then none; the count counts down
    update_trace(c, protocol, {"trace_rate": "1", "trace_count": "2"})
    for _ in range(4):
        infer_simple(c, protocol)
    wait_for(lambda: spans(gw) == 5, "two more spans (trace_count 2)")
    assert trace_settings(c, protocol)["trace_count"] == "0"

    # a model's level OFF turns its spans off; clearing it brings back the global setting
    update_trace(c, protocol, {"trace_count": None})
    update_trace(c, protocol, {"trace_level": ["OFF"]}, model="simple")
    infer_simple(c, protocol)
    update_trace(c, protocol, {"trace_level": None}, model="simple")
    infer_simple(c, protocol)
    wait_for(lambda: spans(gw) == 6, "one more span (the request after the model setting was cleared)")
    time.sleep(0.3)
    assert spans(gw) == 6


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_log_settings_change_what_is_logged(start_gateway, protocol):
    gw = start_gateway(models=["simple", "simple_int8"])
    c = client(gw, protocol)
    assert log_settings(c, protocol) == {"log_file": "", "log_info": True, "log_warning": True, "log_error": True, "log_verbose_level": 0, "log_format": "default"}

    def ready_lines() -> int:
        return sum(1 for line in gw.log_text().splitlines() if '"model version ready"' in line and '"simple_int8"' in line)

    before = ready_lines()
    updated = c.update_log_settings({"log_info": False}) if protocol == "http" else None
    if protocol == "grpc":
        c.update_log_settings({"log_info": False})
        updated = log_settings(c, protocol)
    assert updated["log_info"] is False
    c.load_model("simple_int8")
    time.sleep(0.2)
    assert ready_lines() == before, "an info line was written with log_info off"

    c.update_log_settings({"log_info": True, "log_verbose_level": 1})
    assert log_settings(c, protocol)["log_verbose_level"] == 1
    c.load_model("simple_int8")
    wait_for(lambda: ready_lines() == before + 1, "the info line with log_info back on")

    with pytest.raises(InferenceServerException, match=r"invalid argument for log_format"):
        c.update_log_settings({"log_format": "ISO8601"})
    with pytest.raises(InferenceServerException, match=r"log file location can not be updated"):
        c.update_log_settings({"log_file": "/tmp/switchyard.log"})
    md = c.get_server_metadata()
    extensions = md["extensions"] if protocol == "http" else list(md.extensions)
    assert "trace" in extensions and "logging" in extensions


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_changing_settings_needs_the_admin_token(start_gateway, protocol):
    gw = start_gateway(extra_config={"admin_token": "settings-token"}, models=["simple"])
    c = client(gw, protocol)
    # reading needs no token
    assert log_settings(c, protocol)["log_info"] is True
    assert trace_settings(c, protocol)["trace_rate"] == "1"
    with pytest.raises(InferenceServerException, match=r"admin token"):
        c.update_log_settings({"log_info": False})
    with pytest.raises(InferenceServerException, match=r"admin token"):
        update_trace(c, protocol, {"trace_rate": "4"})
    auth = {"authorization": "Bearer settings-token"}
    assert update_trace(c, protocol, {"trace_rate": "4"}, headers=auth)["trace_rate"] == "4"
    c.update_log_settings({"log_info": False}, headers=auth)
    assert log_settings(c, protocol)["log_info"] is False
