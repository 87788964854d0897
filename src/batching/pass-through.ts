import type { Tensor } from '../core/tensor.js';
import { copyTensor } from './batch-assembly.js';
import { QueuedScheduler, TRIGGER_INSTANCE_FREE, type Trigger } from './queued-scheduler.js';
import { Batch, type Pending } from './pending.js';

/**
 * The scheduler of a model that does not batch (max_batch_size 0): each request runs alone,
 * as it is, on the next free instance, at most `instances` at once, in priority then FIFO
 * order, with the same admission, timeout, cancel and drain rules as the dynamic batcher.
 * Dispatch reason: `full` when an instance was free on arrival (a request of a non-batching
 * model is a complete batch), `instance_free` when it waited for one.
 */
export class PassThroughScheduler extends QueuedScheduler {
  protected schedule(trigger: Trigger, now: number): void {
    const queue = this.queue;
    while (this.freeInstances > 0 && queue.count > 0) {
      const p = queue.first() as Pending;
      const batch = new Batch(trigger === TRIGGER_INSTANCE_FREE ? 'instance_free' : 'full');
      batch.requests.push(p);
      batch.items = p.items;
      this.dispatch(batch, now);
    }
  }

  /**
   * The request's inputs, copied: they may be views into a transport's buffer, and the
   * runner may transfer what it gets to another thread.
   */
  protected assemble(batch: Batch): Tensor[] {
    const inputs = batch.requests[0].req.inputs;
    const out = new Array<Tensor>(inputs.length);
    for (let i = 0; i < inputs.length; i++) out[i] = copyTensor(inputs[i]);
    return out;
  }

  protected checkOutputs(): string | null {
    return null;
  }

  /** The request is the whole batch: it gets the runner's tensor (renamed to the protocol name). */
  protected outputFor(_batch: Batch, _p: Pending, t: Tensor, name: string): Tensor {
    if (t.name !== name) t.name = name;
    return t;
  }
}
