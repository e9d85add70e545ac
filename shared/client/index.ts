export * from './client.js';
export * from './outbox.js';
export * from './room-sync.js';
export * from './rpc.js';
export * from './retry.js';
export * from './transport.js';
export * from './emitter.js';
