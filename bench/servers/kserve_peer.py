"""
The KServe peer: KServe's Python ModelServer with a kserve.Model that runs the ONNX file with
onnxruntime (ORT's default session options), one session.run() per request, no batching,
Open Inference Protocol v2 JSON over REST on /v2/models/<name>/infer.

    .venv-bench/bin/python bench/servers/kserve_peer.py host port model.onnx name

`port` 0 picks a free one. ModelServer's defaults, except: gRPC off (the bench drives REST
only, and its default port 8081 would clash), and no log line per request (uvicorn's access
line, the timing lines on kserve.trace and --enable_latency_logging's line, all on by
default: they write to the console, which the bench reads). Prints one line {"port":N,"kserve":"…","ort":"…"} on stdout
once /v2/models/<name>/ready answers 200. KServe binds 0.0.0.0 whatever `host` says.
"""

import importlib.metadata
import json
import logging
import socket
import sys
import threading
import time
import urllib.request

host, port_arg, model_path, model_name = sys.argv[1:5]
# kserve parses sys.argv when imported (its ModelServer defaults come from argparse): give it
# none of ours, so that it runs with its defaults
sys.argv = sys.argv[:1]

import kserve  # noqa: E402
import onnxruntime as ort  # noqa: E402
from kserve import InferOutput, InferRequest, InferResponse  # noqa: E402
from kserve.utils.numpy_codec import from_np_dtype  # noqa: E402
from kserve.utils.utils import generate_uuid  # noqa: E402


class OnnxModel(kserve.Model):
    def __init__(self, name: str, path: str):
        super().__init__(name)
        self.path = path
        self.session = None
        self.output_names = []
        self.load()

    def load(self) -> bool:
        self.session = ort.InferenceSession(self.path)
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.ready = True
        return self.ready

    def predict(self, payload: InferRequest, headers=None, response_headers=None) -> InferResponse:
        feeds = {i.name: i.as_numpy() for i in payload.inputs}
        results = self.session.run(None, feeds)
        outputs = []
        for name, array in zip(self.output_names, results):
            out = InferOutput(name=name, shape=list(array.shape), datatype=from_np_dtype(array.dtype))
            out.set_data_from_numpy(array, binary_data=False)
            outputs.append(out)
        return InferResponse(response_id=payload.id or generate_uuid(), model_name=self.name, infer_outputs=outputs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def announce(port: int) -> None:
    """Prints the ready line once the model answers ready (polled from a thread that then ends)."""
    url = f"http://127.0.0.1:{port}/v2/models/{model_name}/ready"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as res:
                if res.status == 200:
                    break
        except OSError:
            pass
        time.sleep(0.05)
    line = {"port": port, "kserve": importlib.metadata.version("kserve"), "ort": ort.__version__}
    print(json.dumps(line), flush=True)


def main() -> None:
    port = int(port_arg) or free_port()
    model = OnnxModel(model_name, model_path)
    server = kserve.ModelServer(http_port=port, enable_grpc=False, enable_latency_logging=False)
    # uvicorn writes an access line per request while its logger has handlers
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    # KServe's REST server always times each request (timing_asgi) and logs two lines of it at
    # INFO on kserve.trace, as --enable_latency_logging does on the same logger: what a
    # --log_config_file raising kserve.trace to WARNING does (the timing itself still runs)
    logging.getLogger("kserve.trace").setLevel(logging.WARNING)
    threading.Thread(target=announce, args=(port,), daemon=True).start()
    server.start([model])


main()
