/** A received message not started yet. It owns `bytes` (a copy: uWS reuses its buffer). */
export class HeldFrame {
  readonly bytes: Uint8Array;
  readonly binary: boolean;
  /** performance.now() when it arrived, so that request latency includes the wait */
  readonly receivedAt: number;

  constructor(bytes: Uint8Array, binary: boolean, receivedAt: number) {
    this.bytes = bytes;
    this.binary = binary;
    this.receivedAt = receivedAt;
  }
}
