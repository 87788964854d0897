/**
 * The wire format of /v2/stream messages beyond the infer request and response JSON.
 *
 * Binary frames carry Triton's binary tensor extension in one WebSocket message:
 *
 *   bytes 0..3         uint32 little-endian H: byte length of the JSON header
 *   bytes 4..4+H       the JSON header (UTF-8): the infer request or response; tensors sent
 *                      as binary carry `"parameters": {"binary_data_size": N}`
 *   bytes 4+H..end     the tensors' raw bytes, in the header's order, exactly as the HTTP body
 *                      after the JSON with `Inference-Header-Content-Length: H`
 *
 * Errors are text frames `{"id": "<request id>" | null, "error": "...", "code": "SY_ERR_..."}`.
 */
import { GatewayError, type ErrorCode } from '../../core/index.js';

/** Bytes before the JSON header of a binary frame. */
export const FRAME_PREFIX_BYTES = 4;

/**
 * The JSON header length H of a binary frame; the request body (JSON + tensors) is then
 * `frame.subarray(FRAME_PREFIX_BYTES)` with header length H. Throws SY_ERR_BAD_REQUEST when
 * the frame is too short for its prefix or H runs past its end.
 */
export function readFrameHeaderLength(frame: Uint8Array): number {
  if (frame.byteLength < FRAME_PREFIX_BYTES) {
    throw new GatewayError(
      'SY_ERR_BAD_REQUEST',
      `binary frame of ${frame.byteLength} bytes is too short: expected a 4-byte little-endian JSON header length, the JSON header, then the tensor bytes`,
    );
  }
  const h = (frame[0] | (frame[1] << 8) | (frame[2] << 16)) + frame[3] * 0x1000000;
  const rest = frame.byteLength - FRAME_PREFIX_BYTES;
  if (h > rest) {
    throw new GatewayError(
      'SY_ERR_BAD_REQUEST',
      `binary frame's JSON header length ${h} runs past the end of the frame (${rest} bytes after the 4-byte length); expected the length of the JSON header that follows it`,
    );
  }
  return h;
}

/** A binary frame from an encoded response body (`headerLength` bytes of JSON, then tensors). */
export function encodeBinaryFrame(body: Uint8Array, headerLength: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + body.byteLength);
  frame.writeUInt32LE(headerLength, 0);
  frame.set(body, FRAME_PREFIX_BYTES);
  return frame;
}

/** The error message for one request; `id` null when the message's id could not be read. */
export function encodeErrorMessage(id: string | null, code: ErrorCode, message: string): string {
  return '{"id":' + (id === null ? 'null' : JSON.stringify(id)) + ',"error":' + JSON.stringify(message) + ',"code":"' + code + '"}';
}
