export { decodeInferRequest, decodeStreamRequest, parseInferRequestJson } from './json-request.js';
export type { JsonObject } from './json-text.js';
export { type EncodedResponse, encodeInferResponse } from './json-response.js';
export { decodeV1Predict, encodeV1Predict } from './v1.js';
export { readBinaryTensor, binaryByteLength, writeBinaryTensor } from './binary.js';
export { type BytesEncoding, decodeJsonData } from './elements.js';
export { jsonArray, jsonElement, jsonFloat } from './json-values.js';
export { SERVER_NAME, SERVER_VERSION, modelMetadata } from './metadata.js';
export { type ModelConfigJson, type TensorConfigJson, tritonModelConfig } from './model-config.js';
