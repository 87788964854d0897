/**
 * A target: one model version a route sends requests to. Targets are built once per route
 * (frozen, shared by every decision), so picking allocates none.
 */
export class Target {
  readonly model: string;
  readonly version: string;
  /** `model:version`, the label of the target in metrics and statistics */
  readonly key: string;

  constructor(model: string, version: string) {
    this.model = model;
    this.version = version;
    this.key = `${model}:${version}`;
    Object.freeze(this);
  }

  toJSON(): { model: string; version: string } {
    return { model: this.model, version: this.version };
  }
}

/** The request header that pins a target (`<model>[:<version>]`), and the response header naming the target. */
export const TARGET_HEADER = 'x-switchyard-target';

/** `model[:version]` → its parts; null when the value is empty or has an empty part. */
export function parseTargetHeader(value: string): { model: string; version: string | null } | null {
  const text = value.trim();
  const colon = text.lastIndexOf(':');
  if (colon === -1) return text === '' ? null : { model: text, version: null };
  const model = text.slice(0, colon);
  const version = text.slice(colon + 1);
  if (model === '' || version === '') return null;
  return { model, version };
}
