"""Triton compatibility suite: Triton's own Python clients against a real switchyard.

Setup (once; later runs are a fast no-op):

    bash scripts/compat-venv.sh     # .venv-compat: tritonclient, pytest, perf_analyzer
    npm run build                   # the gateway runs from dist/
    npm run test:compat             # .venv-compat/bin/python -m pytest -q test/compat

Fixtures:

``gateway`` (session)
    One `node bin/switchyard.js serve --config <tmp>/switchyard.yaml` for the whole run:
    a temp copy of examples/models as repository, both ports free (port 0, read back from the
    "switchyard listening" log line), loopback only, no admin token, no Redis. Attributes:
    ``http`` ("127.0.0.1:PORT", what tritonclient.http wants), ``grpc`` ("127.0.0.1:PORT"),
    ``http_url`` ("http://127.0.0.1:PORT"), ``repo_dir``, ``config_path``, ``log_dir``,
    ``proc`` (subprocess.Popen) and ``log_text()`` (the server's stdout+stderr so far).
    Tests must leave it as they found it (a test that unloads a model or changes routes
    uses ``start_gateway`` instead).

``start_gateway`` (function)
    Factory ``start_gateway(extra_config=None, env=None, models=None)`` for a separately
    configured gateway, stopped after the test. ``extra_config`` is deep-merged over the
    base config (dicts merge, anything else replaces), e.g. ``{"admin_token": "s3cret"}``;
    ``env`` adds variables to the child's environment (a value of None removes one);
    ``models`` copies only those example models. Returns the same kind of object as
    ``gateway``.

When a test that used a gateway fails, the gateway's log is attached to the failure report.
Environment: SWITCHYARD_COMPAT_START_TIMEOUT_S (default 60) bounds each start;
SWITCHYARD_COMPAT_BIN runs another build's bin/switchyard.js (default: this checkout's).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_MODELS = REPO_ROOT / "examples" / "models"
# SWITCHYARD_COMPAT_BIN: another build's bin/switchyard.js (e.g. a clean checkout's), to test it
BIN = Path(os.environ.get("SWITCHYARD_COMPAT_BIN", str(REPO_ROOT / "bin" / "switchyard.js"))).resolve()
START_TIMEOUT_S = float(os.environ.get("SWITCHYARD_COMPAT_START_TIMEOUT_S", "60"))
STOP_GRACE_S = 15.0


def deep_merge(base: dict, extra: dict) -> dict:
    """`extra` over `base`: nested dicts merge, any other value (lists included) replaces."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class Gateway:
    """A running `switchyard serve` child process."""

    def __init__(self, root: Path, repo_dir: Path, config_path: Path, log_dir: Path, proc: subprocess.Popen, log_file: Path) -> None:
        self.root = root
        self.repo_dir = repo_dir
        self.config_path = config_path
        self.log_dir = log_dir
        self.proc = proc
        self._log_file = log_file
        self.http = ""
        self.grpc = ""
        self.http_url = ""

    def log_text(self) -> str:
        """The server's stdout and stderr so far."""
        try:
            return self._log_file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _listening(line: str) -> tuple[str, str] | None:
    if not line.startswith("{"):
        return None
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    if rec.get("msg") != "switchyard listening" or not isinstance(rec.get("http"), str) or not isinstance(rec.get("grpc"), str):
        return None
    return rec["http"], rec["grpc"]


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def _child_env(env: dict | None) -> dict:
    # the temp config decides ports, repository, token, Redis and log level, not the caller's shell
    out = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    out.setdefault("MALLOC_ARENA_MAX", "1")
    for key, value in (env or {}).items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = str(value)
    return out


def launch(extra_config: dict | None = None, env: dict | None = None, models: list[str] | None = None) -> Gateway:
    """Starts a gateway and waits until /v2/health/ready answers 200."""
    dist = BIN.parent.parent / "dist"
    if not (dist / "cli.js").exists():
        raise RuntimeError(f"{dist} is missing: run `npm run build` first (the compat suite runs node bin/switchyard.js)")
    root = Path(tempfile.mkdtemp(prefix="switchyard-compat-"))
    repo_dir = root / "models"
    log_dir = root / "logs"
    log_dir.mkdir()
    if models is None:
        shutil.copytree(EXAMPLE_MODELS, repo_dir)
    else:
        repo_dir.mkdir()
        for name in models:
            src = EXAMPLE_MODELS / name
            if not src.is_dir():
                shutil.rmtree(root, ignore_errors=True)
                raise ValueError(f"start_gateway(models=...): {name!r} is not a model in {EXAMPLE_MODELS}")
            shutil.copytree(src, repo_dir / name)
    base = {
        "http": {"host": "127.0.0.1", "port": 0},
        "grpc": {"host": "127.0.0.1", "port": 0, "enabled": True},
        "model_repository": str(repo_dir),
        "admin_token": None,
        "redis": {"url": None},
        "request_log": {"sinks": [{"type": "file", "path": str(log_dir / "requests.jsonl")}]},
        # the "switchyard listening" line is logged at info
        "log_level": "info",
        "drain_timeout_s": 5,
    }
    config = deep_merge(base, extra_config or {})
    config_path = root / "switchyard.yaml"
    # JSON is YAML: no PyYAML needed
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    log_file = log_dir / "gateway.log"
    with open(log_file, "wb") as out:
        proc = subprocess.Popen(
            ["node", str(BIN), "serve", "--config", str(config_path)],
            cwd=REPO_ROOT,
            env=_child_env(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    gw = Gateway(root, repo_dir, config_path, log_dir, proc, log_file)
    try:
        _wait_ready(gw)
    except BaseException:
        gw.stop()
        log = gw.log_text()
        gw.cleanup()
        sys.stderr.write(f"--- switchyard log ({config_path}) ---\n{log}\n")
        raise
    return gw


def _wait_ready(gw: Gateway) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    addresses = None
    while addresses is None:
        if gw.proc.poll() is not None:
            raise RuntimeError(f"switchyard exited with code {gw.proc.returncode} before listening:\n{gw.log_text()}")
        for line in gw.log_text().splitlines():
            addresses = _listening(line)
            if addresses is not None:
                break
        if addresses is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"switchyard did not log 'switchyard listening' within {START_TIMEOUT_S:.0f} s:\n{gw.log_text()}")
            time.sleep(0.05)
    http_addr, grpc_addr = addresses
    gw.http = f"127.0.0.1:{_port(http_addr)}"
    gw.grpc = f"127.0.0.1:{_port(grpc_addr)}" if grpc_addr != "disabled" else ""
    gw.http_url = f"http://{gw.http}"
    last = "no answer yet"
    while True:
        try:
            with urllib.request.urlopen(f"{gw.http_url}/v2/health/ready", timeout=2) as res:
                if res.status == 200:
                    return
                last = f"HTTP {res.status}"
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code}"
        except OSError as e:
            last = str(e)
        if gw.proc.poll() is not None:
            raise RuntimeError(f"switchyard exited with code {gw.proc.returncode} before it was ready:\n{gw.log_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{gw.http_url}/v2/health/ready did not answer 200 within {START_TIMEOUT_S:.0f} s ({last}):\n{gw.log_text()}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def gateway(request: pytest.FixtureRequest):
    gw = launch()
    yield gw
    died = not gw.alive()
    gw.stop()
    if died or request.session.testsfailed > 0:
        sys.stderr.write(f"\n--- switchyard log (session gateway{', exited early with code ' + str(gw.proc.returncode) if died else ''}) ---\n{gw.log_text()}\n")
    gw.cleanup()


class _Factory:
    def __init__(self) -> None:
        self.started: list[Gateway] = []

    def __call__(self, extra_config: dict | None = None, env: dict | None = None, models: list[str] | None = None) -> Gateway:
        gw = launch(extra_config, env, models)
        self.started.append(gw)
        return gw


@pytest.fixture
def start_gateway() -> Any:
    factory = _Factory()
    yield factory
    for gw in factory.started:
        gw.stop()
        gw.cleanup()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed or rep.when == "teardown":
        return
    funcargs: dict = getattr(item, "funcargs", {})
    gateways: list[tuple[str, Gateway]] = []
    if isinstance(funcargs.get("gateway"), Gateway):
        gateways.append(("session gateway", funcargs["gateway"]))
    factory = funcargs.get("start_gateway")
    if isinstance(factory, _Factory):
        gateways += [(f"start_gateway #{i + 1}", gw) for i, gw in enumerate(factory.started)]
    for label, gw in gateways:
        text = gw.log_text()
        lines = text.splitlines()
        if len(lines) > 200:
            text = "\n".join(["[... earlier lines in " + str(gw.log_dir / "gateway.log") + " ...]"] + lines[-200:])
        rep.sections.append((f"switchyard log ({label})", text))


# typing aid for tests: `def test_x(start_gateway: StartGateway)`
StartGateway = Callable[..., Gateway]
