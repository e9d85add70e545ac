export * from './encoding.js';
export * from './password-seal.js';
export * from './identity.js';
export * from './replay-guard.js';
export * from './envelope.js';
export * from './safety-number.js';
export * from './random.js';
export * from './identity-backup.js';
