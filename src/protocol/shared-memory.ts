/**
 * Triton's system shared memory extension: the registry of regions a client registered.
 *
 * A region is a byte range [offset, offset + byte_size) of a POSIX shared memory object,
 * the file `/dev/shm/<key>` that `shm_open(key)` creates (tritonclient's
 * `create_shared_memory_region`, Python's `multiprocessing.shared_memory`). Only shm keys
 * are accepted, never paths: one optional leading "/" (Triton's clients send "/name"), then
 * a name without "/", "..", or NUL, opened with O_NOFOLLOW so a symbolic link planted under
 * /dev/shm cannot point the gateway at another file.
 *
 * Registering opens the object and keeps it open until the region is unregistered (or the
 * gateway stops). Tensors are read and written with pread/pwrite on that descriptor (Node
 * has no dependency-free mmap). Measured on tmpfs (bench/micro/shared-memory.ts, 2-core VM,
 * Node 20), a read or a write of a 64 B or 4 KiB tensor takes ~1 µs, 64 KiB ~3-6 µs, 1 MiB
 * ~55 µs (write) to ~140 µs (read, most of it zero-filling the fresh buffer): well below what
 * the same tensor costs as JSON or even as a request body.
 * Because the descriptor stays open, a region whose object is unlinked while registered
 * keeps working, as it does in Triton (which keeps the object mapped): reads and writes go
 * to the object the client still has mapped. A new object created later under the same key
 * is only seen once the region is registered again.
 *
 * Region names share one namespace with CUDA regions in Triton; switchyard has no CUDA
 * regions, so every name here is a system region.
 */
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError } from '../core/index.js';

/** The directory where Linux keeps POSIX shared memory objects. */
export const SHM_DIR = '/dev/shm';

/** Registered regions at most: each holds a file descriptor. */
const MAX_REGIONS = 1024;
/** NAME_MAX of Linux file systems (tmpfs). */
const MAX_KEY_BYTES = 255;
const MAX_NAME_CHARS = 256;

/** One region as the status call lists it (Triton's `$system_shared_memory_status_response` item). */
export interface SharedMemoryRegionStatus {
  name: string;
  key: string;
  offset: number;
  byte_size: number;
}

class Region {
  readonly name: string;
  /** the key as the client sent it (status reports it back so) */
  readonly key: string;
  readonly offset: number;
  readonly byteSize: number;
  fd: number;

  constructor(name: string, key: string, offset: number, byteSize: number, fd: number) {
    this.name = name;
    this.key = key;
    this.offset = offset;
    this.byteSize = byteSize;
    this.fd = fd;
  }
}

function bad(message: string): GatewayError {
  return new GatewayError('SY_ERR_BAD_REQUEST', message);
}

function quote(s: string): string {
  return JSON.stringify(s.length > 130 ? `${s.slice(0, 130)}…` : s);
}

/**
 * The file name of a shared memory key under /dev/shm: `key` without its leading "/".
 * Throws a 400 naming the rule a key breaks.
 */
export function shmFileName(key: unknown): string {
  if (typeof key !== 'string' || key === '') {
    throw bad(`"key" must be the non-empty name of a POSIX shared memory object such as "/input_data", got ${JSON.stringify(key) ?? String(key)}`);
  }
  const name = key.startsWith('/') ? key.slice(1) : key;
  const rule = 'a shared memory key is one optional leading "/" and a name without "/", "..", or NUL characters (what shm_open takes), never a path';
  if (name === '') throw bad(`shared memory key ${quote(key)} has no name after its "/"; ${rule}`);
  if (name.includes('\0')) throw bad(`shared memory key ${quote(key)} contains a NUL character; ${rule}`);
  if (name.includes('/')) throw bad(`shared memory key ${quote(key)} contains "/" after its first character; ${rule}`);
  if (name.includes('..')) throw bad(`shared memory key ${quote(key)} contains ".."; ${rule}`);
  if (name === '.') throw bad(`shared memory key ${quote(key)} is "."; ${rule}`);
  if (Buffer.byteLength(name, 'utf8') > MAX_KEY_BYTES) throw bad(`shared memory key ${quote(key)} is longer than ${MAX_KEY_BYTES} bytes`);
  return name;
}

/** Checks a region name (the {name} of the URL, or the gRPC request's name). */
export function checkRegionName(name: string): void {
  if (name === '') throw bad('the shared memory region needs a name; register it at /v2/systemsharedmemory/region/<name>/register');
  if (name.length > MAX_NAME_CHARS) throw bad(`shared memory region name ${quote(name)} is longer than ${MAX_NAME_CHARS} characters`);
  if (name.includes('\0')) throw bad('shared memory region names may not contain NUL characters');
}

function byteCount(v: unknown, what: string): number {
  if (typeof v === 'bigint') {
    if (v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  } else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
    return v;
  }
  throw bad(`"${what}" must be a non-negative integer (bytes), got ${typeof v === 'bigint' ? v.toString() : (JSON.stringify(v) ?? String(v))}`);
}

/**
 * The regions registered on this gateway, by name. Owned by the Gateway; the transports'
 * register/unregister/status calls and the inference pipeline's tensor reads and writes
 * (shared-memory-tensors.ts) use it. Everything runs on the main thread.
 */
export class SharedMemoryRegistry {
  private readonly dir: string;
  private readonly regions = new Map<string, Region>();

  /** `dir` is where shm objects live (/dev/shm; tests may point elsewhere). */
  constructor(dir: string = SHM_DIR) {
    this.dir = dir;
  }

  get size(): number {
    return this.regions.size;
  }

  has(name: string): boolean {
    return this.regions.has(name);
  }

  /**
   * Registers `[offset, offset + byteSize)` of the object `key` as region `name`. The object
   * must exist, be a regular file (not a link) the gateway may read and write, and be long
   * enough. 409 when the name is taken, 400 for everything else.
   */
  register(name: string, key: unknown, offset: unknown, byteSize: unknown): void {
    checkRegionName(name);
    const file = shmFileName(key);
    const off = byteCount(offset ?? 0, 'offset');
    const size = byteCount(byteSize, 'byte_size');
    if (size === 0) throw bad(`"byte_size" of shared memory region ${quote(name)} is 0; a region holds at least one byte`);
    if (this.regions.has(name)) {
      throw new GatewayError(
        'SY_ERR_CONFLICT',
        `shared memory region ${quote(name)} already in manager (registered before); unregister it first, or register under another name`,
      );
    }
    if (this.regions.size >= MAX_REGIONS) throw bad(`${MAX_REGIONS} shared memory regions are registered, the most this server holds; unregister some first`);
    const k = key as string;
    let fd: number;
    try {
      fd = openSync(join(this.dir, file), constants.O_RDWR | constants.O_NOFOLLOW);
    } catch (e) {
      throw bad(`Unable to open shared memory region: ${quote(k)}: ${openFailure(e)}`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw bad(`shared memory key ${quote(k)} does not name a shared memory object (it is not a regular file in ${this.dir})`);
      if (off + size > st.size) {
        throw bad(
          `shared memory region ${quote(name)}: offset ${off} + byte_size ${size} = ${off + size} runs past the end of object ${quote(k)} (${st.size} bytes); register a range inside it`,
        );
      }
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    this.regions.set(name, new Region(name, k, off, size, fd));
  }

  /** Unregisters one region (a name never registered is no error, as in Triton), or all (null). */
  unregister(name: string | null): void {
    if (name === null) {
      for (const r of this.regions.values()) closeRegion(r);
      this.regions.clear();
      return;
    }
    const r = this.regions.get(name);
    if (r === undefined) return;
    closeRegion(r);
    this.regions.delete(name);
  }

  /** Every region (name null) or one; 404 when `name` is not registered. */
  status(name: string | null): SharedMemoryRegionStatus[] {
    if (name === null) return [...this.regions.values()].map(statusOf);
    const r = this.regions.get(name);
    if (r === undefined) throw new GatewayError('SY_ERR_NOT_FOUND', `Unable to find system shared memory region: ${quote(name)}; GET /v2/systemsharedmemory/status lists the registered ones`);
    return [statusOf(r)];
  }

  /**
   * Checks that `[offset, offset + byteSize)` lies inside region `name`; throws a 400 that
   * starts with `label` otherwise (unknown region, range past its end).
   */
  check(label: string, name: string, offset: number, byteSize: number): void {
    const r = this.regions.get(name);
    if (r === undefined) {
      throw new GatewayError(
        'SY_ERR_INVALID_INPUT',
        `${label}: Unable to find shared memory region: ${quote(name)}; register it first (POST /v2/systemsharedmemory/region/${encodeURIComponent(name.slice(0, 130))}/register; CUDA shared memory is not supported on this server)`,
      );
    }
    if (offset + byteSize > r.byteSize) {
      throw new GatewayError(
        'SY_ERR_INVALID_INPUT',
        `${label}: shared_memory_offset ${offset} + shared_memory_byte_size ${byteSize} = ${offset + byteSize} runs past the end of shared memory region ${quote(name)} (${r.byteSize} bytes)`,
      );
    }
  }

  /** A copy of `byteSize` bytes at `offset` of region `name` (check() first). */
  read(label: string, name: string, offset: number, byteSize: number): Uint8Array {
    this.check(label, name, offset, byteSize);
    const r = this.regions.get(name) as Region;
    // its own ArrayBuffer (not Buffer's pool): tensors built on it may be transferred to a worker
    const out = new Uint8Array(byteSize);
    let done = 0;
    while (done < byteSize) {
      const n = readSync(r.fd, out, done, byteSize - done, r.offset + offset + done);
      if (n === 0) throw shrunk(label, r);
      done += n;
    }
    return out;
  }

  /** Writes `bytes` at `offset` of region `name` (check() first; never grows the object). */
  write(label: string, name: string, offset: number, bytes: Uint8Array): void {
    this.check(label, name, offset, bytes.byteLength);
    const r = this.regions.get(name) as Region;
    const at = r.offset + offset;
    if (fstatSync(r.fd).size < at + bytes.byteLength) throw shrunk(label, r);
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(r.fd, bytes, done, bytes.byteLength - done, at + done);
  }

  /** Closes every region (gateway stop). */
  close(): void {
    this.unregister(null);
  }
}

/** What a CUDA shared memory registration is answered with (REST and gRPC): a 400, as Triton without GPUs answers. */
export function cudaSharedMemoryUnsupported(name: string): GatewayError {
  return bad(
    `failed to register CUDA shared memory region ${quote(name)}: CUDA shared memory is not supported on this server (no GPU memory registration); use system shared memory (/v2/systemsharedmemory)`,
  );
}

/** The status of CUDA region `name`: none is ever registered (the name may be a system region). */
export function cudaRegionNotFound(registry: SharedMemoryRegistry, name: string): GatewayError {
  if (registry.has(name)) return new GatewayError('SY_ERR_NOT_FOUND', `The region named ${quote(name)} is registered as system shared memory, not CUDA shared memory`);
  return new GatewayError('SY_ERR_NOT_FOUND', `Unable to find cuda shared memory region: ${quote(name)}; CUDA shared memory is not supported on this server`);
}

function statusOf(r: Region): SharedMemoryRegionStatus {
  return { name: r.name, key: r.key, offset: r.offset, byte_size: r.byteSize };
}

function closeRegion(r: Region): void {
  if (r.fd < 0) return;
  try {
    closeSync(r.fd);
  } catch {
    // already closed: nothing to release
  }
  r.fd = -1;
}

function shrunk(label: string, r: Region): GatewayError {
  return new GatewayError(
    'SY_ERR_INVALID_INPUT',
    `${label}: shared memory object ${quote(r.key)} of region ${quote(r.name)} is now shorter than offset ${r.offset} + byte_size ${r.byteSize} (it was truncated after registration); re-create it and register the region again`,
  );
}

function openFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such shared memory object; create it first (shm_open, or tritonclient.utils.shared_memory.create_shared_memory_region), then register it';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied; the gateway must be allowed to read and write the object (same user, or mode 0660 and a shared group)';
    case 'ELOOP':
      return 'it is a symbolic link; register the shared memory object itself';
    case 'EISDIR':
      return 'it is a directory, not a shared memory object';
    case 'EMFILE':
    case 'ENFILE':
      return 'the gateway has too many files open; unregister regions it no longer needs';
    default:
      return `cannot be opened (${code ?? 'unknown error'})`;
  }
}
