// Starts a TypeScript worker thread: registers tsx's loader in this thread, then loads the
// module named in workerData.entry. Plain JavaScript because it runs before any loader exists.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
