export { STREAM_PATH, StreamDoor, registerStream, streamStats } from './door.js';
export {
  CLOSE_POLICY_VIOLATION,
  CLOSE_TRY_AGAIN_LATER,
  StreamConnection,
  type Inferrer,
  type StreamConnectionStats,
  type StreamLimits,
  type StreamSocket,
  type ViolationReason,
} from './connection.js';
export { FRAME_PREFIX_BYTES, encodeBinaryFrame, encodeErrorMessage, readFrameHeaderLength } from './frames.js';
