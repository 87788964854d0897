"""
The MLServer peer's runtime: an MLModel that loads the model-settings' ONNX file with
onnxruntime (ORT's default session options) and runs it once per request, no batching
(MLServer's adaptive batching stays off: max_batch_size is not set).
"""

import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse
from mlserver.utils import get_model_uri


class OnnxModel(MLModel):
    async def load(self) -> bool:
        self._session = ort.InferenceSession(await get_model_uri(self._settings))
        self._output_names = [o.name for o in self._session.get_outputs()]
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        feeds = {i.name: NumpyCodec.decode_input(i) for i in payload.inputs}
        results = self._session.run(None, feeds)
        return InferenceResponse(model_name=self.name, model_version=self.version, id=payload.id, outputs=[self._output(n, a) for n, a in zip(self._output_names, results)])

    @staticmethod
    def _output(name, array):
        out = NumpyCodec.encode_output(name, array)
        # the codec writes a 1-d array as [N, 1]: keep the shape the model gave (label is [1])
        out.shape = list(array.shape)
        return out
