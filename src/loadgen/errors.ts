/**
 * Errors of the `switchyard bench` tool. They are not GatewayErrors (src/core/errors.ts maps
 * a failed inference request to an HTTP/gRPC status; these are the load-tester's command
 * failing before or instead of a run), so they carry a process exit code instead.
 *
 * - BenchUsageError: an option is wrong (the CLI prints the usage after the message);
 * - BenchError: the target cannot be used (unreachable, no such model, refuses the
 *   request the bench built).
 */

/** A bad option: says which option, what it got, and what is expected. Exit code 2. */
export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
  readonly exitCode = 2;
}

/** The target cannot be measured; raised before any load runs. Exit code 2. */
export class BenchError extends Error {
  override readonly name = 'BenchError';
  readonly exitCode = 2;
}
