/**
 * The standard gRPC health service (grpc.health.v1.Health) for Kubernetes gRPC probes and
 * grpc_health_probe. The server ("") and inference.GRPCInferenceService are SERVING while
 * the gateway is ready (not draining, a model version ready) and NOT_SERVING otherwise.
 * Watch sends the current status at once and again on every change: the service re-reads
 * the state after every model version state change (the repository's diagnostics channel)
 * and when update() is called, which the server does as soon as it starts draining.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { GatewayError } from '../../core/index.js';
import { MODEL_LOAD_CHANNEL } from '../../repository/index.js';
import { HealthCheckResponse_ServingStatus as ServingStatus, type HealthCheckRequest, type HealthCheckResponse } from '../../gen/grpc/health/v1/health_pb.js';
import { GRPCInferenceService } from '../../gen/grpc_service_pb.js';
import type { Cancellable, ServerStreamCall, UnaryCall } from './call.js';
import type { AnyHandler } from './service-definition.js';

type Reply = Pick<HealthCheckResponse, 'status'>;

type WatchCall = ServerStreamCall<HealthCheckRequest, Reply>;

/** One Watch call; it leaves `watchers` when the call is cancelled. */
class Watcher implements Cancellable {
  readonly call: WatchCall;
  readonly known: boolean;
  last: ServingStatus;
  private readonly watchers: Set<Watcher>;

  constructor(call: WatchCall, known: boolean, watchers: Set<Watcher>) {
    this.call = call;
    this.known = known;
    this.last = ServingStatus.UNKNOWN;
    this.watchers = watchers;
  }

  cancel(): void {
    this.watchers.delete(this);
  }
}

export class HealthService {
  private readonly serving: () => boolean;
  private readonly watchers = new Set<Watcher>();
  private pending: NodeJS.Immediate | null = null;
  // the state is read once the repository has finished the change it announces
  private readonly onModelChange = (): void => {
    this.pending ??= setImmediate(() => {
      this.pending = null;
      this.update();
    });
  };

  /** `serving()` says whether the gateway serves now. */
  constructor(serving: () => boolean) {
    this.serving = serving;
    subscribe(MODEL_LOAD_CHANNEL, this.onModelChange);
  }

  /** The handlers of grpc.health.v1.Health (see serviceMethods). */
  implementation(): Record<'check' | 'watch', AnyHandler> {
    return {
      check: (call: UnaryCall<HealthCheckRequest, Reply>) => {
        if (!isKnown(call.request.service)) {
          const err = unknownService(call.request.service);
          call.fail({ code: err.grpcStatus, details: err.message, metadata: null });
          return;
        }
        call.reply({ status: this.current() });
      },
      watch: (call: WatchCall) => this.watch(call),
    };
  }

  /** Re-reads the serving state and tells every watcher whose status changed. */
  update(): void {
    const now = this.current();
    for (const w of this.watchers) {
      const s = w.known ? now : ServingStatus.SERVICE_UNKNOWN;
      if (s !== w.last) {
        w.last = s;
        w.call.write({ status: s });
      }
    }
  }

  /** Ends every Watch stream and stops listening for changes. */
  close(): void {
    unsubscribe(MODEL_LOAD_CHANNEL, this.onModelChange);
    if (this.pending !== null) clearImmediate(this.pending);
    this.pending = null;
    for (const w of this.watchers) w.call.end();
    this.watchers.clear();
  }

  private current(): ServingStatus {
    return this.serving() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  private watch(call: WatchCall): void {
    const w = new Watcher(call, isKnown(call.request.service), this.watchers);
    this.watchers.add(w);
    call.cancels(w);
    this.update();
  }
}

const INFERENCE_SERVICE_NAME = GRPCInferenceService.typeName;

function isKnown(service: string): boolean {
  return service === '' || service === INFERENCE_SERVICE_NAME;
}

function unknownService(service: string): GatewayError {
  return new GatewayError('SY_ERR_NOT_FOUND', `unknown service ${JSON.stringify(service.slice(0, 130))}; health is reported for "" (the server) and "${INFERENCE_SERVICE_NAME}"`);
}
