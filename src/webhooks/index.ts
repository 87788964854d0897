export { Webhooks, type WebhooksOptions } from './webhooks.js';
export { WebhookSender, type SenderOptions } from './sender.js';
export { WebhookMetrics, type DeliveryOutcome, type DropReason } from './metrics.js';
export { SIGNATURE_HEADER, TIMESTAMP_HEADER, signatureOf, verifySignature } from './sign.js';
export { backoffDelay, parseRetryAfter, retryDelay, type BackoffOptions } from './backoff.js';
export { newEvent, type AccuracyPayload, type CanaryPayload, type DriftPayload, type PayloadByType, type PayloadOf, type ShadowPayload, type WebhookEvent } from './event.js';
export { undiciTransport, type PostAnswer, type Transport } from './transport.js';
export { Episodes, FlagWindow, RowWindow, type Direction } from './windows.js';
