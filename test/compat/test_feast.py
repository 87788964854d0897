"""switchyard's `format: feast` views against Feast's own SDK.

Feast (`feast[redis]`, pinned in requirements.txt) applies test/compat/feast_repo, writes a
real redis-server with `materialize_incremental` (from parquet files generated here) and
`write_to_online_store`; a switchyard gateway then reads the same Redis through feature views
that fill the input of identity models, so the tensor each model returns is the tensor
switchyard assembled. It must equal `FeatureStore.get_online_features` for the same entities,
value for value, with the view's defaults wherever Feast has no value (a missing entity, a
null feature, an entity whose rows were all older than the view's TTL when materialized), and
`parameters.features_defaulted` must count those values.

Feast applies a feature view's `ttl` when it materializes, not when it reads the online
store: a row written with an old event timestamp is served by `get_online_features` as
present. switchyard serves it too unless the view sets `max_age_s`; with `max_age_s` equal
to Feast's ttl it treats the row as missing (reason `stale`), which the last test checks
against the event timestamps Feast itself reports.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import redis
import tritonclient.http as httpclient
from feast import FeatureStore

REPO_ROOT = Path(__file__).resolve().parents[2]
FEAST_REPO = Path(__file__).resolve().parent / "feast_repo"
FEAST_CLI = Path(sys.executable).parent / "feast"
PROJECT = "switchyard_compat"
REDIS_START_TIMEOUT_S = 10.0

DRIVER_FIELDS = ["conv_rate", "acc_rate", "avg_daily_trips", "trips_today", "is_active"]
DRIVER_DEFAULTS = {"conv_rate": 0.5, "acc_rate": -1.0, "avg_daily_trips": -2, "trips_today": -3}  # is_active: 0
CUSTOMER_FIELDS = ["lifetime_value_micros", "age", "orders"]
CUSTOMER_DEFAULTS = {"age": 35, "orders": -1}  # lifetime_value_micros: 0
PAIR_FIELDS = ["rides_together", "avg_rating"]
PAIR_DEFAULTS = {"avg_rating": 4.0}

# drivers asked for: present (1001 has two rows: the newer wins), a null feature (1003), a
# negative and a large id, only rows older than the ttl (1004: never materialized), written
# with an old event timestamp (1005: present for Feast's online read), with a Redis hash that
# holds only another view's features (2002: driver_daily), never written (9999)
DRIVER_IDS = [1001, 1002, 1003, -17, 2**40 + 7, 1004, 1005, 2002, 9999, 1001]
# strings as UTF-8 keys: one that looks like a number, non-ASCII, one never written
CUSTOMER_IDS = ["c-1", "42", "ünïcødé-客户", "c-max", "c-missing", "c-1"]
PAIRS = [(1001, "c-1"), (1002, "c-1"), (1001, "42"), (1002, "42"), (9999, "c-1")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory):
    """A real redis-server on a free port (no persistence). Fails, never skips, when it cannot start."""
    work = tmp_path_factory.mktemp("redis")
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not on PATH: the Feast compatibility test needs a real Redis (apt-get install redis-server)")
    last_log = ""
    for _ in range(3):
        port = _free_port()
        log_path = work / f"redis-{port}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(work)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + REDIS_START_TIMEOUT_S
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                if client.ping():
                    yield port
                    client.close()
                    proc.terminate()
                    proc.wait(timeout=10)
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        last_log = log_path.read_text(errors="replace")
    pytest.fail(f"redis-server did not start (3 tries on free ports):\n{last_log}")


def _write_sources(data: Path, now: datetime) -> None:
    """The offline store: parquet files Feast materializes from."""
    h = timedelta(hours=1)
    pd.DataFrame(
        {
            "driver_id": np.array([1001, 1001, 1002, 1003, -17, 2**40 + 7, 1004], dtype=np.int64),
            "event_timestamp": [now - 5 * h, now - 1 * h, now - 2 * h, now - 3 * h, now - 4 * h, now - 6 * h, now - 72 * h],
            "created": [now] * 7,
            # float32 values that are not exact in decimal; NaN: Feast writes a null Value
            "conv_rate": np.array([0.1, 0.25, 0.123456789, np.nan, 1e-30, -3.5, 0.9], dtype=np.float32),
            "acc_rate": np.array([0.5, 0.75, 1 / 3, 0.2, -0.0, 1e300, 0.8], dtype=np.float64),
            "avg_daily_trips": np.array([1, 2**53 + 1, -7, 0, -(2**62), 123, 5], dtype=np.int64),
            "trips_today": np.array([1, 2**31 - 1, -(2**31), 3, 0, 7, 4], dtype=np.int32),
            "is_active": [True, True, False, True, False, True, False],
        }
    ).to_parquet(data / "driver_stats.parquet")
    pd.DataFrame(
        {
            "driver_id": np.array([1002, 2002], dtype=np.int64),
            "event_timestamp": [now - 2 * h, now - 2 * h],
            "rating": [4.25, 3.75],
        }
    ).to_parquet(data / "driver_daily.parquet")
    pd.DataFrame(
        {
            "driver_id": np.array([1001, 1002, 1001], dtype=np.int64),
            "customer_id": ["c-1", "c-1", "42"],
            "event_timestamp": [now - 2 * h, now - 3 * h, now - 4 * h],
            "rides_together": np.array([3, 7, 1], dtype=np.int64),
            "avg_rating": np.array([4.5, 4.9, 3.0], dtype=np.float64),
        }
    ).to_parquet(data / "driver_customer.parquet")
    # customer_profile is written with write_to_online_store; its source only has to exist
    _customer_frame(now).iloc[:0].to_parquet(data / "customer_profile.parquet")


def _customer_frame(now: datetime) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c-1", "42", "ünïcødé-客户", "c-max"],
            "event_timestamp": [now - timedelta(hours=1)] * 4,
            # beyond 2^53, and INT64's extremes: exact only if nobody goes through a double
            "lifetime_value_micros": pd.array([2**53 + 1, -(2**62) - 3, 2**63 - 1, -(2**63)], dtype="Int64"),
            "age": pd.array([30, None, 41, 2**31 - 1], dtype="Int32"),
            "orders": pd.array([12, 0, None, 9_000_000_000_000_000_001], dtype="Int64"),
        }
    )


@pytest.fixture(scope="module")
def feast_env(redis_server: int, tmp_path_factory: pytest.TempPathFactory):
    """`feast apply` of a copy of feast_repo, then Feast writes the online store."""
    repo = tmp_path_factory.mktemp("feast") / "repo"
    shutil.copytree(FEAST_REPO, repo, ignore=shutil.ignore_patterns("__pycache__", "data"))
    data = repo / "data"
    data.mkdir()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    _write_sources(data, now)

    saved = {k: os.environ.get(k) for k in ("SWITCHYARD_FEAST_REDIS", "FEAST_USAGE")}
    os.environ["SWITCHYARD_FEAST_REDIS"] = f"127.0.0.1:{redis_server}"
    os.environ["FEAST_USAGE"] = "False"
    try:
        applied = subprocess.run([str(FEAST_CLI), "apply"], cwd=repo, capture_output=True, text=True, timeout=120)
        assert applied.returncode == 0, f"feast apply failed ({applied.returncode}):\n{applied.stdout}\n{applied.stderr}"
        store = FeatureStore(repo_path=str(repo))
        # from now - ttl to now: driver 1004 (only a 72 h old row, ttl 1 day) is left out
        store.materialize_incremental(end_date=datetime.now(timezone.utc), feature_views=["driver_hourly_stats", "driver_daily", "driver_customer_stats"])
        store.write_to_online_store("customer_profile", _customer_frame(now))
        # an event older than the ttl, written directly: Feast's online read still serves it
        store.write_to_online_store(
            "driver_hourly_stats",
            pd.DataFrame(
                {
                    "driver_id": np.array([1005], dtype=np.int64),
                    "event_timestamp": [now - timedelta(days=3)],
                    "created": [now],
                    "conv_rate": np.array([0.6], dtype=np.float32),
                    "acc_rate": [0.7],
                    "avg_daily_trips": np.array([8], dtype=np.int64),
                    "trips_today": np.array([2], dtype=np.int32),
                    "is_active": [True],
                }
            ),
        )
        yield store
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def identity_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model repository of identity models (`features` [batch, n] → `out`), built with examples/lib."""
    models = tmp_path_factory.mktemp("models")
    script = """
import { mkdirSync, writeFileSync } from 'node:fs';
import { ELEM, encodeModel, node, valueInfo } from './examples/lib/onnx-builder.ts';
const [dir, ...specs] = process.argv.slice(1);
for (const spec of specs) {
  const [name, dt] = spec.split(':');
  const elem = dt === 'INT64' ? ELEM.INT64 : ELEM.DOUBLE;
  mkdirSync(`${dir}/${name}/1`, { recursive: true });
  writeFileSync(`${dir}/${name}/1/model.onnx`, encodeModel({
    name, docString: 'identity: out = features', initializers: [],
    inputs: [valueInfo('features', elem, ['batch', 'n'])],
    outputs: [valueInfo('out', elem, ['batch', 'n'])],
    nodes: [node('Identity', ['features'], ['out'])],
  }));
}
"""
    specs = ["feast_drivers:FP64", "feast_drivers_fresh:FP64", "feast_customers:INT64", "feast_pairs:FP64"]
    built = subprocess.run(
        [str(REPO_ROOT / "node_modules" / ".bin" / "tsx"), "-e", script, str(models), *specs],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert built.returncode == 0, f"building the identity models failed:\n{built.stdout}\n{built.stderr}"
    return models


def _gateway_config(redis_port: int, models: Path, driver_max_age_s: int) -> dict:
    def view(feature_view: str, join_keys, fields: list[str], dtype: str, defaults: dict, **extra) -> dict:
        return {
            "format": "feast",
            "project": PROJECT,
            "feature_view": feature_view,
            "join_keys": join_keys,
            "fields": fields,
            "dtype": dtype,
            "defaults": defaults,
            "ttl_ms": 0,  # no local cache: every request reads what Feast wrote
            **extra,
        }

    return {
        "model_repository": str(models),
        "redis": {"url": f"redis://127.0.0.1:{redis_port}"},
        "features": {
            # a loaded CI machine must not turn real reads into timeout defaults
            "lookup_timeout_ms": 5000,
            "views": {
                "drivers": view("driver_hourly_stats", {"driver_id": "INT64"}, DRIVER_FIELDS, "FP64", DRIVER_DEFAULTS),
                "drivers_fresh": view("driver_hourly_stats", {"driver_id": "INT64"}, DRIVER_FIELDS, "FP64", DRIVER_DEFAULTS, max_age_s=driver_max_age_s),
                "customers": view("customer_profile", ["customer_id"], CUSTOMER_FIELDS, "INT64", CUSTOMER_DEFAULTS),
                # not in Feast's (sorted) order on purpose
                "pairs": view("driver_customer_stats", {"driver_id": "INT64", "customer_id": "STRING"}, PAIR_FIELDS, "FP64", PAIR_DEFAULTS),
            },
        },
        "models": {
            "feast_drivers": {"features": {"input": "features", "views": ["drivers"]}},
            "feast_drivers_fresh": {"features": {"input": "features", "views": ["drivers_fresh"]}},
            "feast_customers": {"features": {"input": "features", "views": ["customers"]}},
            "feast_pairs": {"features": {"input": "features", "views": ["pairs"]}},
        },
    }


@pytest.fixture
def gateway_for_feast(start_gateway, redis_server: int, feast_env: FeatureStore, identity_models: Path):
    ttl = feast_env.get_feature_view("driver_hourly_stats").ttl
    assert ttl == timedelta(days=1)
    return start_gateway(extra_config=_gateway_config(redis_server, identity_models, int(ttl.total_seconds())))


def _online(store: FeatureStore, feature_view: str, fields: list[str], entity_rows: list[dict]):
    """Feast's answer: per entity row, the feature values (None = no value) and the event time."""
    resp = store.get_online_features(features=[f"{feature_view}:{f}" for f in fields], entity_rows=entity_rows)
    values = resp.to_dict()
    names = list(resp.proto.metadata.feature_names.val)
    ts_column = resp.proto.results[names.index(fields[0])].event_timestamps
    rows = [[values[f][i] for f in fields] for i in range(len(entity_rows))]
    times = [ts.seconds + ts.nanos / 1e9 for ts in ts_column]
    return rows, times


def _expected(rows: list[list], fields: list[str], defaults: dict, dtype) -> tuple[np.ndarray, int]:
    """The tensor switchyard must assemble from Feast's rows: a value where Feast has one, else the view's default."""
    out = [[defaults.get(f, 0) if v is None else v for f, v in zip(fields, row)] for row in rows]
    defaulted = sum(v is None for row in rows for v in row)
    return np.array(out, dtype=dtype), defaulted


def _bytes_input(name: str, values: list) -> httpclient.InferInput:
    arr = np.array([str(v).encode("utf-8") for v in values], dtype=np.object_)
    t = httpclient.InferInput(name, [len(values)], "BYTES")
    t.set_data_from_numpy(arr)
    return t


def _infer(gw, model: str, inputs: list[httpclient.InferInput], binary: bool = True) -> tuple[np.ndarray, int]:
    with httpclient.InferenceServerClient(gw.http) as client:
        result = client.infer(model, inputs, outputs=[httpclient.InferRequestedOutput("out", binary_data=binary)])
    params = result.get_response().get("parameters") or {}
    assert "features_defaulted" in params, f"no features_defaulted in {result.get_response()}"
    return result.as_numpy("out"), params["features_defaulted"]


def test_int64_keyed_view_equals_get_online_features(gateway_for_feast, feast_env: FeatureStore):
    rows, _ = _online(feast_env, "driver_hourly_stats", DRIVER_FIELDS, [{"driver_id": d} for d in DRIVER_IDS])
    by_id = dict(zip(DRIVER_IDS, rows))
    # what the comparison relies on Feast to have done
    assert by_id[1001] == [pytest.approx(0.25), 0.75, 2**53 + 1, 2**31 - 1, True], "1001: the newer of its two rows"
    assert by_id[1003][0] is None and by_id[1003][1] == 0.2, "1003: a NaN float32 is a null value"
    assert by_id[1004] == [None] * 5, "1004: older than the ttl, so materialize_incremental left it out"
    assert by_id[1005] == [pytest.approx(0.6), 0.7, 8, 2, True], "1005: an old event written directly is still served"
    assert by_id[2002] == [None] * 5
    daily, _ = _online(feast_env, "driver_daily", ["rating"], [{"driver_id": 2002}])
    assert daily == [[3.75]], "2002's hash exists, with driver_daily's features only"
    assert by_id[9999] == [None] * 5

    want, want_defaulted = _expected(rows, DRIVER_FIELDS, DRIVER_DEFAULTS, np.float64)
    for binary in (True, False):  # binary tensor extension and JSON numbers
        got, defaulted = _infer(gateway_for_feast, "feast_drivers", [_bytes_input("driver_id", DRIVER_IDS)], binary)
        assert got.dtype == np.float64 and got.shape == (len(DRIVER_IDS), len(DRIVER_FIELDS))
        np.testing.assert_array_equal(got, want)
        assert defaulted == want_defaulted == 1 + 5 + 5 + 5

    # one entity per request gives the same rows (no batch effects)
    for i, d in enumerate(DRIVER_IDS[:3]):
        got, _ = _infer(gateway_for_feast, "feast_drivers", [_bytes_input("driver_id", [d])])
        np.testing.assert_array_equal(got[0], want[i])


def test_string_keyed_view_is_exact_in_int64(gateway_for_feast, feast_env: FeatureStore):
    rows, _ = _online(feast_env, "customer_profile", CUSTOMER_FIELDS, [{"customer_id": c} for c in CUSTOMER_IDS])
    assert rows[0] == [2**53 + 1, 30, 12]
    assert rows[1][1] is None, "a null Int32 is a null value"
    assert rows[4] == [None] * 3
    want, want_defaulted = _expected(rows, CUSTOMER_FIELDS, CUSTOMER_DEFAULTS, np.int64)
    for binary in (True, False):  # JSON: INT64 beyond 2^53 answered exactly too
        got, defaulted = _infer(gateway_for_feast, "feast_customers", [_bytes_input("customer_id", CUSTOMER_IDS)], binary)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, want)
        assert defaulted == want_defaulted == 1 + 1 + 3


def test_compound_key_view_equals_get_online_features(gateway_for_feast, feast_env: FeatureStore):
    rows, _ = _online(feast_env, "driver_customer_stats", PAIR_FIELDS, [{"driver_id": d, "customer_id": c} for d, c in PAIRS])
    assert rows[0] == [3, 4.5] and rows[3] == [None, None]
    want, want_defaulted = _expected(rows, PAIR_FIELDS, PAIR_DEFAULTS, np.float64)
    got, defaulted = _infer(
        gateway_for_feast,
        "feast_pairs",
        [_bytes_input("driver_id", [d for d, _ in PAIRS]), _bytes_input("customer_id", [c for _, c in PAIRS])],
    )
    np.testing.assert_array_equal(got, want)
    assert defaulted == want_defaulted == 2 + 2


def test_max_age_s_treats_rows_older_than_feast_ttl_as_missing(gateway_for_feast, feast_env: FeatureStore):
    ttl_s = feast_env.get_feature_view("driver_hourly_stats").ttl.total_seconds()
    rows, times = _online(feast_env, "driver_hourly_stats", DRIVER_FIELDS, [{"driver_id": d} for d in DRIVER_IDS])
    now = time.time()
    # by Feast's own event timestamps: a row with values and an event older than the ttl is stale
    stale = [any(v is not None for v in row) and now - t > ttl_s for row, t in zip(rows, times)]
    assert [d for d, s in zip(DRIVER_IDS, stale) if s] == [1005]
    fresh_rows = [[None] * len(DRIVER_FIELDS) if s else row for row, s in zip(rows, stale)]
    want, want_defaulted = _expected(fresh_rows, DRIVER_FIELDS, DRIVER_DEFAULTS, np.float64)
    got, defaulted = _infer(gateway_for_feast, "feast_drivers_fresh", [_bytes_input("driver_id", DRIVER_IDS)])
    np.testing.assert_array_equal(got, want)
    assert defaulted == want_defaulted == 1 + 5 + 5 + 5 + 5

    with urllib.request.urlopen(f"{gateway_for_feast.http_url}/metrics", timeout=10) as res:
        metrics = res.read().decode()
    stale_lines = [ln for ln in metrics.splitlines() if ln.startswith("switchyard_feature_defaults_total") and 'view="drivers_fresh"' in ln and 'reason="stale"' in ln]
    assert stale_lines and float(stale_lines[0].rsplit(" ", 1)[1]) == 5, stale_lines


def test_features_load_writes_what_feast_reads(gateway_for_feast, feast_env: FeatureStore, tmp_path: Path):
    """The other direction: `switchyard features load` into a Feast view, read back by Feast's SDK."""
    event = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=30)
    csv = tmp_path / "customers.csv"
    csv.write_text(
        "customer_id,event_timestamp,lifetime_value_micros,age,orders\n"
        f"load-1,{event.isoformat()},{2**62 + 5},27,3\n"
        f"load-ü,{int(event.timestamp())},{-(2**53) - 1},,4\n",  # no age: the field is not written
        encoding="utf-8",
    )
    loaded = subprocess.run(
        ["node", str(REPO_ROOT / "bin" / "switchyard.js"), "features", "load", "--view", "customers", "--file", str(csv), "--config", str(gateway_for_feast.config_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0, f"features load failed ({loaded.returncode}):\n{loaded.stdout}\n{loaded.stderr}"
    assert "2 rows written, 0 rejected" in loaded.stdout, loaded.stdout

    ids = ["load-1", "load-ü"]
    rows, times = _online(feast_env, "customer_profile", CUSTOMER_FIELDS, [{"customer_id": c} for c in ids])
    assert rows == [[2**62 + 5, 27, 3], [-(2**53) - 1, None, 4]]
    assert times == [event.timestamp()] * 2

    want, want_defaulted = _expected(rows, CUSTOMER_FIELDS, CUSTOMER_DEFAULTS, np.int64)
    got, defaulted = _infer(gateway_for_feast, "feast_customers", [_bytes_input("customer_id", ids)])
    np.testing.assert_array_equal(got, want)
    assert defaulted == want_defaulted == 1
