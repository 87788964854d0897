"""
The MLServer peer: Seldon's MLServer serving one model of this folder (runtime.py's OnnxModel,
the model-settings.json under <name>/), Open Inference Protocol v2 JSON over REST on
/v2/models/<name>/infer.

    .venv-bench/bin/python bench/servers/mlserver/serve.py host port name

What `mlserver start bench/servers/mlserver` does (its CLI's main: logger, uvloop, load the
folder's settings, MLServer(settings).start(models)), with two changes so that it runs
beside the bench: only the model named is loaded, and every port is a free one (`port` 0
picks the HTTP one; gRPC and the metrics server get free ones too: their defaults 8081/8082
would clash), with its metrics and environments folders in a temporary directory instead of
./.metrics and ./.envs. settings.json changes two of MLServer's defaults: debug: false (true
writes an access line per request to the console, which the bench reads) and
parallel_workers: 0 (the default 1 runs inference in a worker process fed over IPC: on the
2-core bench machine that served 1,339 req/s at concurrency 64 where 0 served 4,021, so 0
is MLServer at its best here). Everything else is MLServer's defaults (metrics server on,
adaptive batching off). Prints one line {"port":N,"mlserver":"…","ort":"…","parallel_workers":N}
on stdout once /v2/models/<name>/ready answers 200.
"""

import asyncio
import atexit
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.request

import onnxruntime as ort
from mlserver import MLServer, __version__
from mlserver.cli.serve import load_settings
from mlserver.logging import configure_logger
from mlserver.utils import install_uvloop_event_loop

host, port_arg, model_name = sys.argv[1:4]
FOLDER = os.path.dirname(os.path.abspath(__file__))


def free_port() -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def announce(port: int, workers: int) -> None:
    """Prints the ready line once the model answers ready (polled from a thread that then ends)."""
    url = f"http://{host}:{port}/v2/models/{model_name}/ready"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as res:
                if res.status == 200:
                    break
        except OSError:
            pass
        time.sleep(0.05)
    line = {"port": port, "mlserver": __version__, "ort": ort.__version__, "parallel_workers": workers}
    print(json.dumps(line), flush=True)


async def main() -> None:
    settings, models = await load_settings(FOLDER)
    models = [m for m in models if m.name == model_name]
    if len(models) != 1:
        sys.exit(f"serve.py: no model-settings.json named {model_name!r} under {FOLDER}")
    settings.host = host
    settings.http_port = int(port_arg) or free_port()
    settings.grpc_port = free_port()
    settings.metrics_port = free_port()
    # MLServer creates both folders in the working directory by default (the repository here)
    scratch = tempfile.mkdtemp(prefix="mlserver-peer-")
    atexit.register(shutil.rmtree, scratch, True)
    settings.metrics_dir = os.path.join(scratch, "metrics")
    settings.environments_dir = os.path.join(scratch, "envs")
    server = MLServer(settings)
    threading.Thread(target=announce, args=(settings.http_port, settings.parallel_workers), daemon=True).start()
    await server.start(models)


# parallel workers are started with multiprocessing's spawn, which imports this file again
if __name__ == "__main__":
    configure_logger()
    install_uvloop_event_loop()
    asyncio.run(main())
