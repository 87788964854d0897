export { classCount, decodeInferRequest, decodeStreamRequest, parseInferRequestJson } from './json-request.js';
export type { JsonObject } from './json-text.js';
export { MAX_CONTROL_JSON_DEPTH, describeValue, parseControlJson } from './json-text.js';
export { type EncodedResponse, encodeInferResponse } from './json-response.js';
export { ClassificationPlan, type ClassificationModel, applyClassification, planClassification } from './classification.js';
export { decodeV1Predict, encodeV1Predict } from './v1.js';
export { BytesBudget, readBinaryTensor, binaryByteLength, writeBinaryTensor } from './binary.js';
export { type BytesEncoding, decodeJsonData } from './elements.js';
export { jsonArray, jsonElement, jsonFloat } from './json-values.js';
export { SERVER_NAME, SERVER_VERSION } from './metadata.js';
export { type ModelConfigJson, type TensorConfigJson, tensorConfig, tritonModelConfig } from './model-config.js';
export { SHM_DIR, SharedMemoryRegistry, checkRegionName, cudaRegionNotFound, cudaSharedMemoryUnsupported, shmFileName, type SharedMemoryRegionStatus } from './shared-memory.js';
export {
  isSharedMemoryOutput,
  namesSharedMemory,
  readSharedMemoryInputs,
  sharedMemoryOutputParameters,
  sharedMemoryPlaceholder,
  sharedMemoryRef,
  usesSharedMemory,
  writeSharedMemoryOutputs,
  type SharedMemoryRef,
} from './shared-memory-tensors.js';
export { parseFeedbackItem, type FeedbackItem } from './feedback.js';
