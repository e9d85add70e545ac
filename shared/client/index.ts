export * from './client.js';
export * from './rpc.js';
export * from './transport.js';
export * from './emitter.js';
