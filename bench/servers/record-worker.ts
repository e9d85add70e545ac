/** Worker thread: makes a share of the seeded accounts' OPAQUE records (see records.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { makeRecords, type RecordJob } from './records.js';

const { job } = workerData as { job: RecordJob };
parentPort?.postMessage(await makeRecords(job));
