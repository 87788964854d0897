/**
 * The gRPC door: inference.GRPCInferenceService (Triton-wire-compatible KServe v2), the
 * standard health service and server reflection, served by our own gRPC server on
 * node:http2 (h2-server.ts, h2-call.ts). Messages are encoded with the code generated from
 * proto/ (src/gen/). grpc-js's Server once did this; its layers (interceptors, Metadata
 * objects, stream wrappers, event emitters, nextTicks) took ~20% of the main thread per
 * ModelInfer under load.
 *
 * Stopping: beginDrain() turns health NOT_SERVING at once (the gateway already refuses new
 * requests with UNAVAILABLE); once the gateway has drained, close() sends GOAWAY, lets calls
 * in progress finish for a moment and then cuts the rest (open streams, Watch calls).
 */
import type { Gateway } from '../../gateway.js';
import { Health, file_grpc_health_v1_health } from '../../gen/grpc/health/v1/health_pb.js';
import { GRPCInferenceService, file_grpc_service, type ModelInferRequest } from '../../gen/grpc_service_pb.js';
import type { BidiCall } from './call.js';
import { H2Server } from './h2-server.js';
import { HealthService } from './health.js';
import { modelInferHandler } from './model-infer.js';
import { StreamInferSession, type StreamReply } from './model-stream-infer.js';
import { reflectionMethods } from './reflection.js';
import { serviceRpcs } from './rpcs.js';
import { extensionRpcs } from './extension-rpcs.js';
import { serviceMethods } from './service-definition.js';
import { checkInferRequestWire } from './wire-limits.js';

/** How long close() waits for calls in progress before cutting them. */
const CLOSE_GRACE_MS = 1000;

export class GrpcServer {
  readonly health: HealthService;
  port = 0;
  private readonly server: H2Server;

  constructor(gateway: Gateway) {
    const cfg = gateway.config.grpc;
    this.health = new HealthService(() => gateway.ready);
    const maxInflight = cfg.max_stream_inflight;
    const inference = {
      ...serviceRpcs(gateway),
      ...extensionRpcs(gateway),
      modelInfer: modelInferHandler(gateway),
      modelStreamInfer: (call: BidiCall<ModelInferRequest, StreamReply>) => {
        new StreamInferSession(gateway, call, maxInflight);
      },
    };
    const methods = [
      ...serviceMethods(GRPCInferenceService, inference, { modelInfer: checkInferRequestWire, modelStreamInfer: checkInferRequestWire }),
      ...serviceMethods(Health, this.health.implementation()),
      ...reflectionMethods([file_grpc_service, file_grpc_health_v1_health]),
    ];
    this.server = new H2Server(methods, {
      maxReceiveMessageBytes: cfg.max_receive_message_bytes,
      maxSendMessageBytes: cfg.max_send_message_bytes,
      // grpc.max_connections: 4,054 idle connections once took every file descriptor, REST's included
      maxConnections: cfg.max_connections,
      idleTimeoutMs: cfg.idle_timeout_s * 1000,
      connections: gateway.metrics.connections,
      log: gateway.log,
    });
  }

  /** Binds `host:port` (0 = any free port); resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    try {
      this.port = await this.server.listen(host, port);
    } catch (e) {
      throw new Error(`cannot listen on grpc ${address} (in use, or not allowed); set grpc.port or SWITCHYARD_GRPC_PORT: ${e instanceof Error ? e.message : String(e)}`);
    }
    return this.port;
  }

  /** Health turns NOT_SERVING for every watcher now; call once the gateway started stopping. */
  beginDrain(): void {
    this.health.update();
  }

  /** Stops accepting calls, gives those in progress a moment, then cuts what is left. */
  close(): Promise<void> {
    this.health.close();
    return this.server.close(CLOSE_GRACE_MS);
  }
}
