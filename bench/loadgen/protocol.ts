/** The messages between bench/run.ts and its load-generator processes. */
import type { HistogramData } from '../histogram.js';
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
