/**
 * The client's side of the keylog scenario, in a load-generator process: fetches its friends'
 * keys with their proofs over one socket, a keyLogHead after each on the same socket as the
 * baseline round trip, then times, key by key, the checks a client makes on what it fetched
 * (shared/client/dm/key-log-watch.ts: the head's signature, the inclusion proof) beside the
 * identity's own signature check that every fetched key already had; and a consistency proof
 * between a head kept from earlier and the newest. Every reply is parsed with its schema, every
 * proof must verify: one that does not is counted, and fails the figure.
 */
import { verifyPublicIdentity } from '../../shared/crypto/index.js';
import { verifyKeyLogConsistency, verifyKeyLogHead, verifyKeyLogInclusion } from '../../shared/crypto/key-log.js';
import { parseServerFrame, REQUESTS, type Params, type RequestType, type Result } from '../../shared/protocol/index.js';
import { nowUs } from '../clock.js';
import { Histogram, serialize, summarize } from '../histogram.js';
import type { KeyLogBody, KeyLogHeadReply, KeyLogReply } from './protocol.js';

/** One request on a connected client: its reply frame and when it arrived (bench/clock.ts). */
export type Request = (body: Record<string, unknown>) => Promise<{ frame: Buffer; atUs: number }>;

type Answer<T extends RequestType> =
  | { ok: true; value: Result<T>; bytes: number; rttUs: number }
  | { ok: false; code: string; rttUs: number };

/** A request timed from its send to its reply's arrival, the reply then checked with the request's schema. */
async function call<T extends RequestType>(request: Request, type: T, params: Params<T>): Promise<Answer<T>> {
  const t = nowUs();
  const { frame, atUs } = await request({ type, ...params });
  const rttUs = atUs - t;
  let json: unknown;
  try {
    json = JSON.parse(frame.toString());
  } catch {
    return { ok: false, code: 'UNPARSABLE', rttUs };
  }
  const parsed = parseServerFrame(json);
  if (parsed.kind !== 'reply') return { ok: false, code: 'BAD_FRAME', rttUs };
  if (!parsed.frame.ok) return { ok: false, code: parsed.frame.error.code, rttUs };
  const result = REQUESTS[type].result.safeParse(parsed.frame.result);
  if (!result.success) return { ok: false, code: 'BAD_REPLY', rttUs };
  return { ok: true, value: result.data as Result<T>, bytes: frame.length, rttUs };
}

export async function readKeyLogHead(request: Request): Promise<KeyLogHeadReply> {
  const r = await call(request, 'keyLogHead', {});
  if (!r.ok) throw new Error(`keyLogHead refused: ${r.code}`);
  if (!r.value.head) throw new Error('the key log is empty');
  return { publicKey: r.value.publicKey, head: r.value.head };
}

function bytesOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

export async function measureKeyLog(request: Request, body: KeyLogBody): Promise<KeyLogReply> {
  const rtt = { fetchKeys: new Histogram(), keyLogHead: new Histogram(), keyLogConsistency: new Histogram() };
  const errors: Record<string, number> = {};
  let unverified = 0;
  const counted = <T extends RequestType>(a: Answer<T>, into: Histogram | null): Answer<T> => {
    into?.record(a.rttUs);
    if (!a.ok) errors[a.code] = (errors[a.code] ?? 0) + 1;
    return a;
  };
  /** The newest reply for each friend: the keys whose proofs are checked below. */
  const fetched = new Map<string, { value: Result<'fetchKeys'>; bytes: number }>();
  let headReplyBytes = 0;
  const pass = async (measured: boolean) => {
    for (const username of body.friends) {
      const f = counted(await call(request, 'fetchKeys', { username }), measured ? rtt.fetchKeys : null);
      if (f.ok) fetched.set(username, { value: f.value, bytes: f.bytes });
      const h = counted(await call(request, 'keyLogHead', {}), measured ? rtt.keyLogHead : null);
      if (h.ok) {
        headReplyBytes = h.bytes;
        if (h.value.publicKey !== body.older.publicKey) unverified++; // the log key changed under the client
      }
    }
  };
  await pass(false); // warm-up: the authority's statements, both code paths, the socket's buffers
  for (let r = 0; r < body.rounds; r++) await pass(true);
  const keys = [...fetched];
  if (keys.length === 0) throw new Error(`no key fetched: ${JSON.stringify(errors)}`);

  const us = { head: [] as number[], inclusion: [] as number[], both: [] as number[], identity: [] as number[] };
  // As the client does (key-log-watch.ts): a head's signature is checked once, then the head is
  // kept, and the next keys fetched under the same head pay only their inclusion proof. The raw
  // signature check is still timed on every key, apart, for the record.
  let verifiedHead: string | null = null;
  for (let i = 0; i < body.verifications; i++) {
    const [username, { value }] = keys[i % keys.length]!;
    const { identity, log } = value;
    const headKey = `${log.head.size}|${log.head.root}|${log.head.signature}`;
    const t0 = performance.now();
    const signed = verifyKeyLogHead(log.head, body.older.publicKey);
    const t1 = performance.now();
    const included = verifyKeyLogInclusion(username, identity, log.at, log.index, log.path, log.head);
    const t2 = performance.now();
    const selfSigned = verifyPublicIdentity(identity);
    const t3 = performance.now();
    if (!signed || !included || !selfSigned) unverified++;
    us.head.push((t1 - t0) * 1000);
    us.inclusion.push((t2 - t1) * 1000);
    us.both.push((verifiedHead === headKey ? t2 - t1 : t2 - t0) * 1000);
    verifiedHead = headKey;
    us.identity.push((t3 - t2) * 1000);
  }

  const older = body.older.head;
  const newest = keys[0]![1].value.log.head;
  let path: string[] = [];
  const consistencyUs: number[] = [];
  for (let r = 0; r < body.consistencyRounds; r++) {
    const c = counted(await call(request, 'keyLogConsistency', { from: older.size, to: newest.size }), rtt.keyLogConsistency);
    if (c.ok) path = c.value.path;
  }
  for (let r = 0; r < body.consistencyRounds; r++) {
    const t = performance.now();
    const consistent = verifyKeyLogConsistency(older, newest, path);
    consistencyUs.push((performance.now() - t) * 1000);
    if (!consistent) unverified++;
  }

  const replies = keys.map(([, k]) => k);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const pathLengths = replies.map((k) => k.value.log.path.length);
  return {
    fetchKeys: serialize(rtt.fetchKeys),
    keyLogHead: serialize(rtt.keyLogHead),
    keyLogConsistency: serialize(rtt.keyLogConsistency),
    errors,
    unverified,
    verify: { head: summarize(us.head), inclusion: summarize(us.inclusion), both: summarize(us.both), identity: summarize(us.identity) },
    verifyConsistency: summarize(consistencyUs),
    sizes: {
      logSize: newest.size,
      olderSize: older.size,
      replyBytes: mean(replies.map((k) => k.bytes)),
      proofBytes: mean(replies.map((k) => bytesOf(k.value.log))),
      pathHashesMin: Math.min(...pathLengths),
      pathHashesMax: Math.max(...pathLengths),
      keyLogHeadReplyBytes: headReplyBytes,
      consistencyHashes: path.length,
      consistencyBytes: bytesOf(path),
    },
  };
}
