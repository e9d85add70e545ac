export * from './types.js';
export * from './engine.js';
export * from './history.js';
export * from './device-identity.js';
export * from './signal.js';
export * from './peer-link.js';
