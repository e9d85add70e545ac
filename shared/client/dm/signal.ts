/**
 * What DM engines say to each other through the authority's signaling relay. The authority
 * carries `data` without reading it; each engine parses what it receives with these schemas.
 *
 *   knock  "please open a channel to me": sent by the side that must not initiate; or, sent by
 *          the side that initiates, "which of your sessions is there?", which each session
 *          of the friend answers with a knock addressed (`to`) to the asker: the asker offers
 *          to the first that answers, never to all of them at once (a friend with two devices
 *          that both answered one offer made the offerer's ICE fail)
 *   rtc    one simple-peer signal (offer, answer or ICE candidate), addressed to a session
 *
 * A user may be logged in from several processes at once (the CLI's `listen` beside a one-shot
 * `dm`): every engine picks a random session id, and messages name the session they are for.
 */
import { z } from 'zod';
import { LIMITS } from '../../protocol/index.js';
import { peerKey } from './peer-key.js';

export const SIGNAL_VERSION = 1;

export const SessionId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);

/** Longest ICE candidate line we relay (real ones are ~100–200 characters). */
const MAX_CANDIDATE_CHARS = 1024;

const Sdp = z
  .string()
  .min(1)
  .max(LIMITS.maxSignalBytes)
  .refine((s) => s.startsWith('v=0'), 'an SDP starts with v=0');

export const RtcSignal = z.discriminatedUnion('type', [
  z.object({ type: z.literal('offer'), sdp: Sdp }).strict(),
  z.object({ type: z.literal('answer'), sdp: Sdp }).strict(),
  z
    .object({
      type: z.literal('candidate'),
      // Browsers add fields (usernameFragment): unknown ones are dropped, not refused.
      candidate: z.object({
        candidate: z.string().max(MAX_CANDIDATE_CHARS),
        sdpMLineIndex: z.number().int().min(0).max(255).nullable().optional(),
        sdpMid: z.string().max(64).nullable().optional(),
        usernameFragment: z.string().max(256).nullable().optional(),
      }),
    })
    .strict(),
]);
export type RtcSignal = z.infer<typeof RtcSignal>;

export const SignalMessage = z.discriminatedUnion('kind', [
  z
    .object({
      v: z.literal(SIGNAL_VERSION),
      kind: z.literal('knock'),
      sid: SessionId,
      /** The session this answers (a knock answering the initiator's question). */
      to: SessionId.optional(),
    })
    .strict(),
  z
    .object({
      v: z.literal(SIGNAL_VERSION),
      kind: z.literal('rtc'),
      sid: SessionId,
      /** The session this is for; absent on an initiator's first messages (any session may answer). */
      to: SessionId.optional(),
      rtc: RtcSignal,
    })
    .strict(),
]);
export type SignalMessage = z.infer<typeof SignalMessage>;

/**
 * Glare rule: between two friends, the one whose username sorts first (without regard to
 * case, as usernames are unique that way) always initiates; the other knocks.
 */
export function initiatesWith(me: string, friend: string): boolean {
  return peerKey(me) < peerKey(friend);
}
