/**
 * Direct messages between friends: end-to-end encrypted, peer-to-peer over WebRTC when it can
 * be, through the authority when it cannot. Runtime-neutral; the runtime injects storage,
 * WebRTC (a simple-peer factory) and sql.js:
 *
 *   const dm = new DmEngine(client, { storage, createPeer, loadSql });   // before or after login
 *   await client.login(username, password);
 *   await dm.unlock(password);          // opens or creates the device keys, publishes them
 *   dm.on('received', …); dm.on('status', …); dm.on('keyChanged', …); dm.on('channel', …);
 *   await dm.send(friend, text);        // → path direct | relayed | stored, then 'delivered'
 *   await dm.close();
 *
 * Node wiring: cli/dm/ (files, @roamhq/wrtc). Browser wiring: desktop/src/renderer/dm/.
 */
export * from './types.js';
export * from './engine.js';
export * from './history.js';
export * from './device-identity.js';
export * from './device-sync.js';
export * from './history-transfer.js';
export * from './signal.js';
export * from './peer-link.js';
export * from './peer-key.js';
