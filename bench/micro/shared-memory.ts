/**
 * Microbenchmark of reading and writing a tensor in a system shared memory region the way
 * the gateway does (SharedMemoryRegistry: pread/pwrite on the object's descriptor, a fresh
 * buffer per read, an fstat before each write), per call, for tensor sizes from 64 B to 1 MiB.
 * Node has no dependency-free mmap; this is what the region access costs instead.
 *
 *   npx tsx bench/micro/shared-memory.ts [--iterations 20000]
 */
import { rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SharedMemoryRegistry } from '../../src/protocol/shared-memory.js';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20000' } } });
const ITERATIONS = Number(values.iterations);
const SIZES = [64, 4096, 65536, 1 << 20];
const file = `/dev/shm/sy-bench-${process.pid}`;

writeFileSync(file, new Uint8Array(SIZES[SIZES.length - 1]));
const registry = new SharedMemoryRegistry();
registry.register('bench', `/sy-bench-${process.pid}`, 0, SIZES[SIZES.length - 1]);

/** ns per call of `fn`, best of three passes. */
function time(n: number, fn: () => void): number {
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / n);
  }
  return best;
}

try {
  console.log(`node ${process.version}, ${ITERATIONS} iterations (fewer for large sizes), best of 3`);
  console.log('bytes        read ns    write ns   read GB/s');
  for (const size of SIZES) {
    const n = Math.max(200, Math.floor((ITERATIONS * 4096) / Math.max(size, 4096)));
    const data = new Uint8Array(size).fill(7);
    const read = time(n, () => registry.read('bench', 'bench', 0, size));
    const write = time(n, () => registry.write('bench', 'bench', 0, data));
    console.log(`${String(size).padEnd(12)} ${read.toFixed(0).padStart(8)}   ${write.toFixed(0).padStart(8)}   ${(size / read).toFixed(2).padStart(8)}`);
  }
} finally {
  registry.close();
  rmSync(file, { force: true });
}
