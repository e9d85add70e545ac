/** WebRTC in Node: simple-peer over @roamhq/wrtc (installed under the name `wrtc`). */
import SimplePeer from 'simple-peer';
import wrtc from 'wrtc';
import type { CreatePeer, PeerLike } from '../../shared/client/dm/index.js';

/**
 * simple-peer arms a 5 s "ICE gathering complete" timer that destroy() does not clear, which
 * keeps a one-shot CLI process alive 5 s after its last channel closed. With trickle ICE the
 * timer has no effect on signaling, so it is made to expire at once.
 */
const ICE_COMPLETE_TIMEOUT_MS = 1;

export const createNodePeer: CreatePeer = (opts) =>
  new SimplePeer({
    ...opts,
    wrtc: wrtc as unknown as SimplePeer.Options['wrtc'],
    iceCompleteTimeout: ICE_COMPLETE_TIMEOUT_MS,
  } as SimplePeer.Options) as unknown as PeerLike;
