export { NO_SHADOWS, ShadowSelector } from './select.js';
export { ShadowComparison, compareOutputs } from './compare.js';
