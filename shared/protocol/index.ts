export * from './limits.js';
export * from './errors.js';
export * from './close-codes.js';
export * from './messages.js';
export const PROTOCOL_VERSION = 1;
export * from './fingerprint.js';
