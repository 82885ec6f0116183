/**
 * The privacy policy generator (practice 1): a policy model derived from the data map, rendered
 * in zh-CN and en as HTML or Markdown, versioned by a scope fingerprint and diffed between
 * versions with a re-consent verdict (R5, R6).
 */

export * from './labels.js';
export * from './model.js';
export * from './render.js';
export * from './scope.js';
export { sha256, sha256Hex } from './sha256.js';
export { escapeHtml, escapeMarkdown } from './text.js';
export * from './version.js';
