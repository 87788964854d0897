import diagnosticsChannel from 'node:diagnostics_channel';
import {
  BATCH_COMPLETE_CHANNEL,
  BATCH_DISPATCH_CHANNEL,
  type BatchCompleteEvent,
  type BatchDispatchEvent,
} from '../../src/batching/index.js';

/** Records the batching diagnostics events until stop(). */
export class EventLog {
  readonly dispatches: BatchDispatchEvent[] = [];
  readonly completes: BatchCompleteEvent[] = [];
  private readonly onDispatch = (m: unknown): void => {
    this.dispatches.push(m as BatchDispatchEvent);
  };
  private readonly onComplete = (m: unknown): void => {
    this.completes.push(m as BatchCompleteEvent);
  };

  constructor() {
    diagnosticsChannel.subscribe(BATCH_DISPATCH_CHANNEL, this.onDispatch);
    diagnosticsChannel.subscribe(BATCH_COMPLETE_CHANNEL, this.onComplete);
  }

  get reasons(): string[] {
    return this.dispatches.map((d) => d.reason);
  }

  stop(): void {
    diagnosticsChannel.unsubscribe(BATCH_DISPATCH_CHANNEL, this.onDispatch);
    diagnosticsChannel.unsubscribe(BATCH_COMPLETE_CHANNEL, this.onComplete);
  }
}
