/** `npm start -- --data DIR --restore FILE`: a backup put back in place, with the authority stopped. */
import { stderr, stdout } from 'node:process';
import { restoreBackup } from '../backup.js';
import type { AuthorityConfig } from '../config.js';

/** The process's exit code: 0 restored, 1 refused (a running authority, a file that is no sound backup). */
export function restoreFromBackup(config: AuthorityConfig, file: string): number {
  try {
    const { previous, previousHead, sealed } = restoreBackup(config.dataDir, file);
    stdout.write(`restored ${file} into ${config.dataDir}${previous ? ` (the replaced database is kept as ${previous})` : ''}\n`);
    stdout.write(
      `audit head reset to the restored log's chain${previousHead ? ` (the old head file is kept as ${previousHead})` : ''}` +
        `${sealed ? `; ${sealed} entries of an unanchored backup MACed` : ''}; the restore is its newest entry\n`,
    );
    return 0;
  } catch (err) {
    stderr.write(`error RESTORE_FAILED: ${(err as Error).message}\n`);
    return 1;
  }
}
