/** The messages between bench/run.ts and its load-generator processes. */
import type { KeyLogHead } from '../../shared/protocol/index.js';
import type { HistogramData, SampleSummary } from '../histogram.js';
import type { LoginKind } from './login.js';

export type Target = 'authority' | 'baseline';

export interface ClientSpec {
  /** Global index: also this client's sender id in message texts. */
  index: number;
  username: string;
  password: string;
  /** When set (our authority), the client comes in with `resume` and this token, not a password. */
  token?: string;
  room: string;
  roomIndex: number;
  sends: boolean;
}

export interface SetupBody {
  url: string;
  target: Target;
  fingerprint: string | null;
  clients: ClientSpec[];
  /** Room index of every global client index (senders are clients). */
  roomOfSender: number[];
  concurrency: number;
  /** Connect only this share of the clients now (the rest on `ensure`). */
  share: number;
}

export interface ConnectReply {
  connected: number;
  failed: number;
  errors: Record<string, number>;
  ms: number;
}

export interface StepBody {
  t0Us: number;
  durationMs: number;
  /** Gap between this process's messages, and its offset so that processes interleave. */
  intervalUs: number;
  phaseUs: number;
}

export interface SentReply {
  /** [sender index, its last message number] for this process's senders. */
  finalN: [number, number][];
  sent: number;
  /** Messages due while their sender was disconnected. */
  skipped: number;
  genLag: { data: HistogramData; max: number };
}

export interface DrainBody {
  startN: number[];
  finalN: number[];
  maxWaitMs: number;
  quietMs: number;
}

export interface DrainReply {
  expected: number;
  unique: number;
  dup: number;
  gap: number;
  latency: { data: HistogramData; max: number };
  ack: { data: HistogramData; max: number };
  acks: number;
  ackMissing: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
}

export interface HistoryBody {
  room: string;
  limit: number;
  /** `before` cursors to measure, each `perDepth` times. */
  depths: number[];
  perDepth: number;
}

export interface HistoryReply {
  perDepth: { before: number; latency: { data: HistogramData; max: number }; badPages: number }[];
}

export interface StormBody {
  url: string;
  fingerprint: string | null;
  /** opaque or legacy (our authority; see login.ts), baseline (its one-frame login). */
  kind: LoginKind;
  usernames: string[];
  password: string;
  /** Logins in flight at once. */
  concurrency: number;
  durationMs: number;
  /**
   * Each lane connects from an address of its own, as logins from many machines would: the
   * authority's per-address share of its password pool then does not hold the lanes back.
   */
  ownAddresses?: boolean;
}

export interface StormReply {
  logins: number;
  failures: number;
  errors: Record<string, number>;
  /** Each login from its connect to its last reply. */
  latency: { data: HistogramData; max: number };
  /** How long the loop ran, logins under way at its end included. */
  ms: number;
  /** CPU time the generator process spent meanwhile: the clients' side of the logins. */
  cpuMs: number;
}

/** The key log's newest head as a client first reads it (keyLogHead), and the log key it pins. */
export interface KeyLogHeadReply {
  publicKey: string;
  head: KeyLogHead;
}

export interface KeyLogBody {
  /** The client's friends, whose keys it fetches in turn. */
  friends: string[];
  /** Passes over the friends, each fetchKeys followed by a keyLogHead on the same socket (the baseline). */
  rounds: number;
  /** Checks of a fetched key's proof, timed one by one, over the keys fetched in turn. */
  verifications: number;
  /** A head this client kept from earlier: the consistency proof goes from it to the newest. */
  older: KeyLogHeadReply;
  /** keyLogConsistency round trips, each proof then checked (timed) as often. */
  consistencyRounds: number;
}

export interface KeyLogReply {
  /** Round trips, µs histograms. */
  fetchKeys: { data: HistogramData; max: number };
  keyLogHead: { data: HistogramData; max: number };
  keyLogConsistency: { data: HistogramData; max: number };
  /** Replies that were errors or did not parse, by code. */
  errors: Record<string, number>;
  /** Proofs (inclusion, heads, consistency) or identities that did not verify: a bug. */
  unverified: number;
  /** The client's checks per fetched key, µs: the head's signature, the inclusion proof, both; and the identity's own signature (what each key cost before the log). */
  verify: { head: SampleSummary; inclusion: SampleSummary; both: SampleSummary; identity: SampleSummary };
  /** verifyKeyLogConsistency from the older head to the newest, µs. */
  verifyConsistency: SampleSummary;
  sizes: {
    logSize: number;
    olderSize: number;
    /** fetchKeys reply frames, mean bytes, and the `log` member (the proof with its head) in them. */
    replyBytes: number;
    proofBytes: number;
    pathHashesMin: number;
    pathHashesMax: number;
    keyLogHeadReplyBytes: number;
    consistencyHashes: number;
    consistencyBytes: number;
  };
}
