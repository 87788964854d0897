import type { ServerConfig } from '../config/index.js';
import { Gateway, type GatewayOptions } from '../gateway.js';
import type { Logger } from '../core/index.js';
import { GrpcServer } from '../transport/grpc/index.js';
import { HttpServer, uwsBuild, uwsNative, uwsNotLoaded } from '../transport/http/index.js';

export interface RunningServer {
  gateway: Gateway;
  http: HttpServer;
  httpPort: number;
  /** null when grpc.enabled is false */
  grpc: GrpcServer | null;
  /** the bound gRPC port; 0 when grpc.enabled is false */
  grpcPort: number;
  /** graceful stop: refuse new requests, finish queued ones (bounded by drain_timeout_s), stop workers */
  stop(): Promise<void>;
}

/** Builds the gateway from a config, loads the models and opens the HTTP port. */
export async function startServer(config: ServerConfig, log: Logger, options: Pick<GatewayOptions, 'monitoring'> = {}): Promise<RunningServer> {
  if (!uwsNative) {
    log.warn('no uWebSockets.js native binary loaded; serving with the slow pure-JS fallback', { not_loaded: uwsNotLoaded.map((n) => `${n.package} ${n.version}: ${n.reason}`) });
  }
  const gateway = await Gateway.create({ config, log, ...options });
  const http = new HttpServer(gateway);
  let httpPort: number;
  try {
    httpPort = await http.listen(config.http.host, config.http.port);
  } catch (e) {
    await gateway.stop();
    throw e;
  }
  let grpc: GrpcServer | null = null;
  let grpcPort = 0;
  if (config.grpc.enabled) {
    grpc = new GrpcServer(gateway);
    try {
      grpcPort = await grpc.listen(config.grpc.host, config.grpc.port);
    } catch (e) {
      http.close();
      await grpc.close();
      await gateway.stop();
      throw e;
    }
  }
  if (config.admin_token === null) {
    log.warn('no admin token set: the admin API (routes, model load/unload) answers loopback clients only; set SWITCHYARD_ADMIN_TOKEN to manage the gateway remotely');
  }
  log.info('switchyard listening', {
    http: `${config.http.host}:${httpPort}`,
    grpc: grpc === null ? 'disabled' : `${config.grpc.host}:${grpcPort}`,
    uws: uwsNative ? 'native' : 'js-fallback',
    uws_build: `${uwsBuild.package} ${uwsBuild.version}`,
    models: gateway.index(false).map((e) => `${e.name}@${e.version}:${e.state}`),
  });
  let stopping: Promise<void> | null = null;
  return {
    gateway,
    http,
    httpPort,
    grpc,
    grpcPort,
    stop() {
      stopping ??= (async () => {
        // Readiness turns false at once; the port stays open so queued responses can be written.
        const drained = gateway.drain();
        grpc?.beginDrain(); // health NOT_SERVING at once; the gateway refuses new requests already
        await drained;
        // the doors close before monitoring does, so every 503 answered while draining is logged;
        // a request that still arrives on an open connection gets no answer (the process exits)
        http.close();
        await grpc?.close();
        await gateway.stop();
      })();
      return stopping;
    },
  };
}
