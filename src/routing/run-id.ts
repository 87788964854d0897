import { randomUUID } from 'node:crypto';

/** A new id for a canary run (part of its windows' keys). */
export function newRunId(): string {
  return randomUUID().slice(0, 8);
}
