/** WebRTC in Node: simple-peer over @roamhq/wrtc (installed under the name `wrtc`). */
import SimplePeer from 'simple-peer';
import wrtc from 'wrtc';
import type { CreatePeer, PeerLike } from '../../shared/client/dm/index.js';

export const createNodePeer: CreatePeer = (opts) =>
  new SimplePeer({ ...opts, wrtc: wrtc as unknown as SimplePeer.Options['wrtc'] }) as unknown as PeerLike;
