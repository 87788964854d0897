/**
 * Model repository events on `node:diagnostics_channel`. This module imports nothing, so a
 * subscriber (health, metrics, the feature service) takes the name without loading the
 * repository (and ONNX Runtime with it).
 */

/** Published on every version state change. */
export const MODEL_LOAD_CHANNEL = 'switchyard:model:load';

export interface ModelLoadEvent {
  readonly model: string;
  readonly version: string;
  /** READY | UNAVAILABLE | LOADING | UNLOADING */
  readonly state: string;
  readonly reason: string;
  /** the execution provider a READY version runs on */
  readonly provider: string | null;
  readonly durationMs: number;
}
