/**
 * OPAQUE registration records for the seeded accounts, made in the bench's authority process
 * before it listens: both halves of a registration (the client's, with its Argon2id key
 * stretching, and the server's response with the authority's setup), run back to back, so that
 * a seeded account can log in with its password exactly as a registered one would. A record is
 * bound to its account's name: one is made per account (about 2 ms each with the cheap
 * stretching, about 100 ms with the default one), spread over the cores when there are many.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as opaque from '@serenity-kit/opaque';
import { opaqueIdentifier } from '../../authority/src/accounts-policy.js';
import type { OpaqueKsf } from '../../shared/protocol/index.js';

/** For the clients that do log in with a password, at a trivial cost: one pass over 1 MiB. */
export const CHEAP_KSF: OpaqueKsf = { iterations: 1, memory: 1024, parallelism: 1 };

/** The authority's bootstrap for TypeScript worker threads (it loads workerData.entry through tsx). */
const TS_WORKER = new URL('../../authority/src/ts-worker.mjs', import.meta.url);
const WORKER_ENTRY = new URL('./record-worker.ts', import.meta.url).href;
/** Fewer records than this per thread are made in this one: a worker's start (tsx, the WebAssembly) costs more. */
const MIN_RECORDS_PER_THREAD = 200;

export interface RecordJob {
  serverSetup: string;
  usernames: string[];
  password: string;
  ksf: OpaqueKsf;
}

/** The login settings of an account, as `store.users.create` takes them. */
export type SeededLogin = { record: string; ksf: string };

/** The records of `job`, made in this thread. */
export async function makeRecords(job: RecordJob): Promise<SeededLogin[]> {
  await opaque.ready;
  const password = job.password.normalize('NFC'); // as the client core sends it
  const keyStretching = { 'argon2id-custom': { ...job.ksf } } as const;
  const ksf = JSON.stringify(job.ksf);
  return job.usernames.map((username) => {
    const started = opaque.client.startRegistration({ password });
    const { registrationResponse } = opaque.server.createRegistrationResponse({
      serverSetup: job.serverSetup,
      userIdentifier: opaqueIdentifier(username),
      registrationRequest: started.registrationRequest,
    });
    const { registrationRecord } = opaque.client.finishRegistration({
      clientRegistrationState: started.clientRegistrationState,
      registrationResponse,
      password,
      keyStretching,
    });
    return { record: registrationRecord, ksf };
  });
}

function inWorker(job: RecordJob): Promise<SeededLogin[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(TS_WORKER, { workerData: { entry: WORKER_ENTRY, job } });
    worker.once('message', (records: SeededLogin[]) => {
      resolve(records);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`record worker exited with ${code}`)));
  });
}

/** The records of `job`, in order: this thread and, for many, a worker per other core. */
export async function registrationRecords(job: RecordJob): Promise<SeededLogin[]> {
  const threads = Math.max(1, Math.min(availableParallelism(), Math.floor(job.usernames.length / MIN_RECORDS_PER_THREAD)));
  const share = Math.ceil(job.usernames.length / threads);
  const parts = Array.from({ length: threads }, (_, t) => ({ ...job, usernames: job.usernames.slice(t * share, (t + 1) * share) }));
  const [here, ...away] = parts;
  const elsewhere = away.map(inWorker);
  const mine = await makeRecords(here!);
  return [mine, ...(await Promise.all(elsewhere))].flat();
}
