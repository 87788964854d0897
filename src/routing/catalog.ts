/**
 * What routing needs to know about the served models: the gateway implements it over the
 * model repository. Both calls are synchronous and cheap (pinning asks per request).
 */
export interface Catalog {
  /** whether `model` has `version` (a positive integer as a string) */
  has(model: string, version: string): boolean;
  /** the versions of `model`, ascending; [] when there is no such model */
  versions(model: string): readonly string[];
}
