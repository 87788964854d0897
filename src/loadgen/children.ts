/**
 * Child processes that must not outlive this one: a gateway started for a sweep, a server
 * started by the bench suite. Each is killed (SIGKILL) if this process exits or is
 * interrupted (SIGINT/SIGTERM, then exit 130) while it still runs.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
}

/** Registers `child`; it is forgotten once it exits. */
export function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}
