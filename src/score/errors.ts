/** Failures of `switchyard score` as a whole (a bad row is never one: it goes to the errors file). */

/** A bad option, file, model or column set, found before any row runs: exit 2. */
export class ScoreUsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'ScoreUsageError';
  }
}

/** The run could not go on (the output cannot be written, the gateway went away): exit 1. */
export class ScoreError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'ScoreError';
  }
}
