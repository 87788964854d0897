/**
 * The gRPC door: inference.GRPCInferenceService (Triton-wire-compatible KServe v2), the
 * standard health service and server reflection, on one @grpc/grpc-js server. Messages are
 * encoded with the code generated from proto/ (src/gen/).
 *
 * Stopping: beginDrain() turns health NOT_SERVING at once (the gateway already refuses new
 * requests with UNAVAILABLE); once the gateway has drained, close() lets calls in progress
 * finish for a moment and then cuts the rest (open streams, Watch calls).
 */
import { createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { Server, ServerCredentials, logVerbosity, setLogVerbosity, setLogger, type ConnectionInjector, type ServerDuplexStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Gateway } from '../../gateway.js';
import type { ConnectionMetrics, Logger } from '../../telemetry/index.js';
import { Health, file_grpc_health_v1_health } from '../../gen/grpc/health/v1/health_pb.js';
import { GRPCInferenceService, file_grpc_service, type ModelInferRequest } from '../../gen/grpc_service_pb.js';
import { HealthService } from './health.js';
import { modelInferHandler } from './model-infer.js';
import { StreamInferSession, type StreamReply } from './model-stream-infer.js';
import { addReflection } from './reflection.js';
import { serviceRpcs } from './rpcs.js';
import { extensionRpcs } from './extension-rpcs.js';
import { serviceDefinition } from './service-definition.js';
import { checkInferRequestWire } from './wire-limits.js';

/** How long close() waits for calls in progress before cutting them. */
const CLOSE_GRACE_MS = 1000;

export class GrpcServer {
  private readonly server: Server;
  readonly health: HealthService;
  port = 0;
  private readonly maxConnections: number;
  private readonly connections: ConnectionMetrics;
  private open = 0;
  private listener: NetServer | null = null;
  private injector: ConnectionInjector | null = null;

  constructor(gateway: Gateway) {
    routeLibraryLogs(gateway.log);
    const cfg = gateway.config.grpc;
    this.server = new Server({
      'grpc.max_receive_message_length': cfg.max_receive_message_bytes,
      'grpc.max_send_message_length': cfg.max_send_message_bytes,
      ...(cfg.idle_timeout_s > 0 ? { 'grpc.max_connection_idle_ms': cfg.idle_timeout_s * 1000 } : {}),
    });
    this.maxConnections = cfg.max_connections;
    this.connections = gateway.metrics.connections;
    this.health = new HealthService(() => gateway.ready);
    const maxInflight = cfg.max_stream_inflight;
    const inference: UntypedServiceImplementation = {
      ...serviceRpcs(gateway),
      ...extensionRpcs(gateway),
      modelInfer: modelInferHandler(gateway),
      modelStreamInfer: (call: ServerDuplexStream<ModelInferRequest, StreamReply>) => {
        new StreamInferSession(gateway, call, maxInflight);
      },
    };
    this.server.addService(serviceDefinition(GRPCInferenceService, { modelInfer: checkInferRequestWire, modelStreamInfer: checkInferRequestWire }), inference);
    this.server.addService(serviceDefinition(Health), this.health.implementation());
    addReflection(this.server, [file_grpc_service, file_grpc_health_v1_health]);
  }

  /**
   * Binds `host:port` (0 = any free port); resolves with the bound port. The socket is ours
   * (grpc-js's connection injector serves what it accepts) so that connections can be
   * counted and capped: grpc-js alone has no limit, and 4,054 idle connections once took
   * every file descriptor, REST's included.
   */
  listen(host: string, port: number): Promise<number> {
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const injector = this.server.createConnectionInjector(ServerCredentials.createInsecure());
    this.injector = injector;
    const listener = createServer((socket) => {
      if (this.open >= this.maxConnections) {
        this.connections.refused.inc({ door: 'grpc' });
        socket.destroy();
        return;
      }
      this.open++;
      this.connections.open.inc({ door: 'grpc' });
      socket.once('close', () => {
        this.open--;
        this.connections.open.dec({ door: 'grpc' });
      });
      injector.injectConnection(socket);
    });
    this.listener = listener;
    return new Promise((resolve, reject) => {
      listener.once('error', (err) => reject(new Error(`cannot listen on grpc ${address} (in use, or not allowed); set grpc.port or SWITCHYARD_GRPC_PORT: ${err.message}`)));
      listener.listen(port, host, () => {
        this.port = (listener.address() as AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  /** Health turns NOT_SERVING for every watcher now; call once the gateway started stopping. */
  beginDrain(): void {
    this.health.update();
  }

  /** Stops accepting calls, gives those in progress a moment, then cuts what is left. */
  close(): Promise<void> {
    this.health.close();
    this.listener?.close();
    this.injector?.drain(CLOSE_GRACE_MS);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.injector?.destroy();
        this.server.forceShutdown();
        resolve();
      }, CLOSE_GRACE_MS);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        this.injector?.destroy();
        resolve();
      });
    });
  }
}

/**
 * grpc-js writes its own errors to the console in plain text; send them through the
 * gateway's JSON logger instead (grpc-js has one logger per process: the last server wins).
 */
function routeLibraryLogs(log: Logger): void {
  setLogVerbosity(logVerbosity.ERROR);
  setLogger({ error: (...args: unknown[]) => log.warn('grpc-js', { message: args.map(String).join(' ') }) });
}
