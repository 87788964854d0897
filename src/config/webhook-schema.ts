/**
 * Config schema of webhooks: `webhooks` (a list of receivers) and `webhook_settings` (the
 * thresholds and windows of the events that need one, and the shutdown bound). Lists are
 * replaced whole when a file is layered over the defaults, so a webhook's own defaults are
 * filled in by normaliseWebhookConfig; webhookConfigIssues checks what the schema cannot
 * (a URL that parses, at most one of secret / secret_env, distinct names).
 *
 * The event type names live here (not in src/webhooks/) because the schema lists them;
 * the webhooks folder maps each to the diagnostics channel it is built from.
 */
import { Type, type Static } from '@sinclair/typebox';
import { configIssue, type ConfigIssue } from './errors.js';
import { isPlainObject, type DeepReadonly } from './merge.js';
import { orNull } from './model-schema.js';

/**
 * Every event type a webhook can receive. A/B and interleaving verdicts (issue 17) are
 * not published yet; they will be added here as `ab.verdict` and `interleave.verdict` when
 * their routes publish them, and a webhook whose `events` is left out gets them then.
 */
export const WEBHOOK_EVENT_TYPES = [
  'canary.step',
  'canary.promoted',
  'canary.rolled_back',
  'drift.detected',
  'accuracy.below_threshold',
  'shadow.disagreement_above_threshold',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const threshold = (description: string, expected: string) =>
  Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { default: null, description, expected });

const ACCURACY_BELOW = threshold(
  'online accuracy (0..1, over the last accuracy_window labelled rows of a model version) below which an accuracy.below_threshold event is sent; null = no accuracy events',
  'a number 0..1, or null',
);
const DISAGREEMENT_ABOVE = threshold(
  'fraction of compared shadow copies (0..1, over the last shadow_window of a route\'s shadow target) whose predicted class differs from the primary\'s, above which a shadow.disagreement_above_threshold event is sent; null = no shadow events',
  'a number 0..1, or null',
);

const webhookProperties = {
  url: Type.String({
    pattern: '^[Hh][Tt][Tt][Pp][Ss]?://\\S+$',
    description: 'http:// or https:// URL the events are POSTed to (JSON)',
    expected: 'an http:// or https:// URL',
  }),
  name: Type.Union([Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }), Type.Null()], {
    default: null,
    description: 'the webhook\'s label in metrics and logs; null = the URL\'s host (names must be distinct)',
    expected: 'letters, digits, "_", ".", ":" or "-" (at most 64), or null',
  }),
  events: Type.Union([Type.Array(Type.Union(WEBHOOK_EVENT_TYPES.map((t) => Type.Literal(t))), { uniqueItems: true }), Type.Null()], {
    default: null,
    description: 'event types this URL receives; null = all of them (types added in later versions included)',
    expected: `null or a list of ${WEBHOOK_EVENT_TYPES.join(' | ')}`,
  }),
  secret: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
    default: null,
    description: 'HMAC-SHA256 key the deliveries are signed with (x-switchyard-signature); null = secret_env, or unsigned',
    expected: 'a non-empty string or null',
    secret: true,
  }),
  secret_env: Type.Union([Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.Null()], {
    default: null,
    description: 'name of the environment variable that holds the signing secret (read at startup), instead of secret',
    expected: 'an environment variable name, or null',
  }),
  timeout_ms: Type.Integer({ minimum: 1, maximum: 600000, default: 5000, description: 'longest one delivery attempt may take (connect to response) before it counts as a network error' }),
  max_retries: Type.Integer({ minimum: 0, maximum: 100, default: 5, description: 'attempts after the first on a network error, a 5xx or a 429; other 4xx are not retried' }),
  retry_initial_ms: Type.Integer({ minimum: 1, default: 500, description: 'backoff before the first retry; each retry doubles it (with full jitter), up to retry_max_ms' }),
  retry_max_ms: Type.Integer({ minimum: 1, default: 60000, description: 'longest backoff between two attempts; also caps a Retry-After the receiver asks for' }),
  queue_size: Type.Integer({
    minimum: 1,
    default: 1000,
    description: 'events waiting to be delivered to this URL; when full, new events are dropped and counted (switchyard_webhook_dropped_total)',
  }),
  online_accuracy_below: ACCURACY_BELOW,
  shadow_disagreement_above: DISAGREEMENT_ABOVE,
};

export const WebhookSchema = Type.Object(webhookProperties, {
  additionalProperties: false,
  description: 'a receiver of JSON events (canary transitions, drift, accuracy, shadow disagreement), signed with HMAC-SHA256',
});

/** What a file may say about a webhook: its url, and any other key. */
const WebhookFileSchema = Type.Object(
  { ...Type.Partial(Type.Object(webhookProperties)).properties, url: webhookProperties.url },
  { additionalProperties: false, description: WebhookSchema.description },
);

const settingsProperties = {
  online_accuracy_below: ACCURACY_BELOW,
  accuracy_min_labels: Type.Integer({ minimum: 1, default: 100, description: 'labelled rows a model version needs in its window before its accuracy is judged' }),
  accuracy_window: Type.Integer({ minimum: 1, maximum: 1000000, default: 1000, description: 'most recent labelled rows per model version the accuracy is computed on' }),
  shadow_disagreement_above: DISAGREEMENT_ABOVE,
  shadow_min_compared: Type.Integer({ minimum: 1, default: 100, description: 'compared shadow copies a route\'s shadow target needs in its window before its disagreement is judged' }),
  shadow_window: Type.Integer({ minimum: 1, maximum: 1000000, default: 1000, description: 'most recent compared shadow copies per route and shadow target the disagreement is computed on' }),
  close_timeout_s: Type.Number({ minimum: 0, default: 5, description: 'at shutdown, seconds to go on delivering queued events; what is left then is dropped and counted' }),
};

export const WebhookSettingsSchema = Type.Object(settingsProperties, {
  additionalProperties: false,
  description: 'thresholds and windows of the webhook events that need one (a webhook may set its own thresholds), and the shutdown bound',
});

export const WebhookConfigProperties = {
  webhooks: Type.Array(WebhookSchema, {
    default: [],
    description: 'URLs that receive JSON events; [] = none',
    expected: 'a list of webhooks, each { url, events, secret | secret_env, timeout_ms, max_retries, ... }',
  }),
  webhook_settings: WebhookSettingsSchema,
};

export const WebhookConfigFileProperties = {
  webhooks: orNull(
    Type.Array(WebhookFileSchema, {
      default: [],
      description: 'URLs that receive JSON events; [] = none',
      expected: 'a list of webhooks, each { url, events, secret | secret_env, timeout_ms, max_retries, ... }',
    }),
  ),
  webhook_settings: orNull(Type.Partial(WebhookSettingsSchema, { additionalProperties: false })),
};

export type WebhookConfig = DeepReadonly<Static<typeof WebhookSchema>>;
export type WebhookSettingsConfig = DeepReadonly<Static<typeof WebhookSettingsSchema>>;

const WEBHOOK_DEFAULTS: Readonly<Record<string, unknown>> = Object.fromEntries(
  Object.entries(webhookProperties).map(([k, s]) => [k, (s as { default?: unknown }).default]),
);

/**
 * Part of the normalise step, on the merged server config (changed in place): fills each
 * webhook's missing keys with their defaults. `webhooks: null` in a file means none.
 */
export function normaliseWebhookConfig(config: unknown): void {
  if (!isPlainObject(config)) return;
  if (config.webhooks === null) config.webhooks = [];
  if (!Array.isArray(config.webhooks)) return;
  for (const hook of config.webhooks) {
    if (!isPlainObject(hook)) continue;
    for (const [key, value] of Object.entries(WEBHOOK_DEFAULTS)) {
      if (key !== 'url' && !Object.hasOwn(hook, key)) hook[key] = value;
    }
  }
}

/** The name a webhook goes by in metrics and logs: its `name`, else its URL's host. */
export function webhookName(hook: { readonly url: string; readonly name: string | null }): string {
  if (hook.name !== null) return hook.name;
  try {
    return new URL(hook.url).host;
  } catch {
    return hook.url;
  }
}

/**
 * Rules the schema cannot say: each URL parses as an http(s) URL, at most one of secret and
 * secret_env, backoff bounds in order, distinct names.
 */
export function webhookConfigIssues(config: unknown, sourceOf: (key: string) => string): ConfigIssue[] {
  if (!isPlainObject(config) || !Array.isArray(config.webhooks)) return [];
  const issues: ConfigIssue[] = [];
  const names = new Map<string, number>();
  config.webhooks.forEach((hook, i) => {
    if (!isPlainObject(hook)) return;
    const at = (key: string) => `webhooks[${i}].${key}`;
    const url = hook.url;
    if (typeof url === 'string' && /^https?:\/\//i.test(url)) {
      let parsed: URL | null = null;
      try {
        parsed = new URL(url);
      } catch {
        issues.push(configIssue({ source: sourceOf(at('url')), path: at('url'), value: url, expected: 'an http:// or https:// URL with a valid host', detail: '(the URL does not parse)' }));
      }
      if (parsed !== null) {
        const name = typeof hook.name === 'string' ? hook.name : parsed.host;
        const first = names.get(name);
        if (first !== undefined) {
          issues.push(
            configIssue({ source: sourceOf(at('name')), path: at('name'), value: hook.name ?? null, expected: `a name other than "${name}" (webhooks[${first}] goes by it): set a distinct name on each webhook to the same host` }),
          );
        } else {
          names.set(name, i);
        }
      }
    }
    if (hook.secret !== null && hook.secret !== undefined && hook.secret_env !== null && hook.secret_env !== undefined) {
      issues.push(configIssue({ source: sourceOf(at('secret_env')), path: at('secret_env'), value: hook.secret_env, expected: 'null when secret is set (give the secret one way: secret or secret_env)' }));
    }
    if (typeof hook.retry_initial_ms === 'number' && typeof hook.retry_max_ms === 'number' && hook.retry_max_ms < hook.retry_initial_ms) {
      issues.push(configIssue({ source: sourceOf(at('retry_max_ms')), path: at('retry_max_ms'), value: hook.retry_max_ms, expected: `an integer >= retry_initial_ms (${hook.retry_initial_ms})` }));
    }
  });
  return issues;
}
