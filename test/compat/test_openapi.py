"""schemathesis against a live gateway, from the document it serves at GET /v2/openapi.json.

Checks: the document is valid OpenAPI 3.0 (the official meta-schema, as schemathesis ships
it), and `schemathesis run --checks all` over every operation, a bounded, seeded number of
cases (test/compat/schemathesis.toml): no 5xx, every status, content type, header and body as
the document says, invalid input refused with a 4xx, a wrong method a 405, admin operations a
401 without the token. It runs on its own gateway (`start_gateway`, with an admin token):
unload, route deletes and log and trace settings change server state, and that gateway is
thrown away afterwards. What the run leaves out, and why, is in schemathesis.toml.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TOKEN = "compat-openapi-token"


def test_the_document_is_valid_openapi_3_0(gateway) -> None:
    import jsonschema_rs
    from schemathesis.specs.openapi.definitions import OPENAPI_30

    with urllib.request.urlopen(f"{gateway.http_url}/v2/openapi.json", timeout=10) as res:
        assert res.status == 200
        assert res.headers["content-type"] == "application/json"
        document = json.load(res)
    assert document["openapi"].startswith("3.0.")
    errors = [f"{e.instance_path}: {e.message}" for e in jsonschema_rs.Draft4Validator(OPENAPI_30).iter_errors(document)]
    assert errors == []


@pytest.mark.timeout(240)
def test_schemathesis_finds_nothing(start_gateway, tmp_path: Path) -> None:
    gw = start_gateway({"admin_token": TOKEN})
    cli = Path(sys.executable).parent / "schemathesis"
    started = time.monotonic()
    proc = subprocess.run(
        [
            str(cli),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{gw.http_url}/v2/openapi.json",
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {TOKEN}",
            "--request-timeout",
            "10",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=220,
    )
    took = time.monotonic() - started
    out = proc.stdout + proc.stderr
    summary = out[out.find("SUMMARY") :] if "SUMMARY" in out else out[-3000:]
    sys.stderr.write(f"schemathesis: exit {proc.returncode} in {took:.0f} s\n{summary}\n")
    assert gw.alive(), "the gateway exited during the schemathesis run"
    assert proc.returncode == 0, f"schemathesis found problems (exit {proc.returncode}):\n{out[-20000:]}"
    shutil.rmtree(tmp_path / ".hypothesis", ignore_errors=True)
