import type { ServerConfig } from './config/index.js';
import { Gateway } from './gateway.js';
import type { Logger } from './telemetry/index.js';
import { HttpServer, uwsNative } from './transport/http/index.js';

export interface RunningServer {
  gateway: Gateway;
  http: HttpServer;
  httpPort: number;
  /** graceful stop: refuse new requests, finish queued ones (bounded by drain_timeout_s), stop workers */
  stop(): Promise<void>;
}

/** Builds the gateway from a config, loads the models and opens the HTTP port. */
export async function startServer(config: ServerConfig, log: Logger): Promise<RunningServer> {
  if (!uwsNative) log.warn('uWebSockets.js native binary did not load; serving with its slow pure-JS fallback');
  const gateway = await Gateway.create({ config, log });
  const http = new HttpServer(gateway);
  let httpPort: number;
  try {
    httpPort = await http.listen(config.http.host, config.http.port);
  } catch (e) {
    await gateway.stop();
    throw e;
  }
  log.info('switchyard listening', {
    http: `${config.http.host}:${httpPort}`,
    uws: uwsNative ? 'native' : 'js-fallback',
    models: gateway.repository.index().map((e) => `${e.name}@${e.version}:${e.state}`),
  });
  let stopping: Promise<void> | null = null;
  return {
    gateway,
    http,
    httpPort,
    stop() {
      stopping ??= (async () => {
        // Readiness turns false at once; the port stays open so queued responses can be written.
        await gateway.stop();
        http.close();
      })();
      return stopping;
    },
  };
}
