/**
 * The load generator's accounting against a local server whose behaviour is known: counts,
 * errors by kind, histogram percentiles, timeouts, and the open loop's latency measured from
 * the intended send time. Margins are wide: the machine is shared.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ClosedLoop, HttpDriver, OpenLoop } from '../../src/loadgen/index.js';
import { startKnownServer, type KnownBehaviour, type KnownServer } from './known-server.js';

let server: KnownServer | null = null;
let driver: HttpDriver | null = null;

afterEach(async () => {
  await driver?.close();
  await server?.close();
  driver = null;
  server = null;
});

async function target(b: KnownBehaviour, connections: number): Promise<HttpDriver> {
  server = await startKnownServer(b);
  driver = new HttpDriver({ origin: server.origin, path: '/v2/models/m/infer', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"inputs":[]}') }, connections);
  await driver.open();
  return driver;
}

describe('closed loop', () => {
  it('reports the latency of a server that answers after 5 ms, and counts every request', async () => {
    const d = await target({ delayMs: 5 }, 4);
    const { recorder: r, seconds } = await new ClosedLoop(d, 4, 1000, 5000).run();
    expect(seconds).toBe(1);
    const p50 = r.percentileMs(50);
    expect(p50).toBeGreaterThanOrEqual(4.5);
    expect(p50).toBeLessThanOrEqual(15);
    // every request the server saw was answered and counted, all of them successes
    expect(r.requests).toBe(server!.count());
    expect(r.successes).toBe(r.requests);
    expect(r.failures).toBe(0);
    expect(r.latency.count).toBe(r.successes);
    expect(r.successesInWindow).toBeLessThanOrEqual(r.successes);
    expect(r.successesInWindow).toBeGreaterThan(r.successes - 4 - 1);
  });

  it('counts errors by kind: every 10th request answered 503', async () => {
    const d = await target({ delayMs: 2, failEvery: 10 }, 4);
    const { recorder: r } = await new ClosedLoop(d, 4, 600, 5000).run();
    const seen = server!.count();
    expect(r.requests).toBe(seen);
    expect(Object.fromEntries(r.errors)).toEqual({ 'http 503': Math.floor(seen / 10) });
    expect(r.samples.get('http 503')).toBe('overloaded, try later');
    expect(r.successes + r.failures).toBe(r.requests);
    expect(r.latency.count).toBe(r.successes);
  });

  it('counts a request that is never answered as a timeout and still finishes', async () => {
    const d = await target({ delayMs: 1, hangAt: 5 }, 2);
    const { recorder: r } = await new ClosedLoop(d, 2, 500, 200).run();
    expect(r.errors.get('timeout')).toBe(1);
    expect(r.successes + r.failures).toBe(r.requests);
  });

  it('counts connection failures by kind', async () => {
    server = await startKnownServer({ delayMs: 0 });
    const origin = server.origin;
    await server.close();
    server = null;
    driver = new HttpDriver({ origin, path: '/', headers: {}, body: Buffer.from('{}') }, 1);
    const { recorder: r } = await new ClosedLoop(driver, 1, 200, 1000).run();
    expect(r.successes).toBe(0);
    expect(r.errors.get('connect ECONNREFUSED')).toBe(r.requests);
    expect(r.requests).toBeGreaterThan(0);
  });
});

describe('open loop', () => {
  it('sends at the arrival rate and counts every due request', async () => {
    const d = await target({ delayMs: 1 }, 16);
    const { recorder: r } = await new OpenLoop(d, 200, 1000, 16, 5000).run();
    expect(r.requests).toBe(200);
    expect(server!.count()).toBe(200);
    expect(r.successes).toBe(200);
    expect(r.lateness.count).toBe(200);
  });

  it('includes the queueing a 300 ms stall causes: latency counts from the intended send time', async () => {
    const d = await target({ delayMs: 1, stallAt: 60, stallMs: 300 }, 64);
    const { recorder: r } = await new OpenLoop(d, 200, 1500, 64, 5000).run();
    expect(r.successes).toBe(300);
    // the request that arrived first in the stall waited all of it
    expect(r.latency.max / 1000).toBeGreaterThanOrEqual(250);
    // ~60 of 300 requests were due during the stall: the tail shows it
    expect(r.percentileMs(99)).toBeGreaterThanOrEqual(150);
    expect(r.percentileMs(50)).toBeLessThan(150);
  });

  it('still counts from the intended time when every slot is taken, and reports how late it sent', async () => {
    // two slots: during the stall the due requests cannot be sent at all
    const d = await target({ delayMs: 1, stallAt: 40, stallMs: 300 }, 2);
    const { recorder: r } = await new OpenLoop(d, 200, 1000, 2, 5000).run();
    expect(r.requests).toBe(200);
    expect(r.successes).toBe(200);
    expect(r.latency.max / 1000).toBeGreaterThanOrEqual(250);
    // ~60 requests were due in the stall but only 2 were out: measured from when they were
    // finally sent they would look fast (coordinated omission); from their due time, the
    // slowest tenth waited well over 100 ms
    expect(r.percentileMs(90)).toBeGreaterThanOrEqual(100);
    // requests due in the stall went out late, by up to the stall's length
    expect(r.lateness.max / 1000).toBeGreaterThanOrEqual(200);
  });

  it("does not charge the server for the generator's own lateness: a busy generator's late sends count from when they went out", async () => {
    // slots to spare and a 1 ms server: the only delay is this process blocking its own event
    // loop for 150 ms, so the requests due meanwhile go out late through no fault of the server
    const d = await target({ delayMs: 1 }, 64);
    const loop = new OpenLoop(d, 200, 1000, 64, 5000);
    const blocker = setTimeout(() => {
      const until = performance.now() + 150;
      while (performance.now() < until) {
        // busy: timers cannot fire
      }
    }, 300);
    const { recorder: r } = await loop.run();
    clearTimeout(blocker);
    expect(r.successes).toBe(200);
    // ~30 requests were due in the block and sent up to 150 ms late …
    expect(r.lateness.max / 1000).toBeGreaterThanOrEqual(120);
    // … and answered about 1 ms after they went out: measured from their due time the
    // slowest tenth would read over 50 ms
    expect(r.percentileMs(90)).toBeLessThan(40);
  });
});
