export * from './model.js';
export * from './state.js';
export * from './age.js';
export * from './receipt.js';
export * from './rules.js';
