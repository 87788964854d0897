export { formatText } from './text.js';
export { formatMarkdown } from './markdown.js';
export { renderSvg, linearTicks, logTicks } from './svg.js';
export { formatJson } from './json.js';
