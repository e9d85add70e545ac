/**
 * Data protection commands: /backup (on demand, with progress), /export_user and /delete_user
 * (GDPR requests; the operations are handlers/privacy.ts).
 */
import { listBackups } from '../../backup.js';
import { isRow } from '../../context.js';
import { deleteUser, exportUserToFile } from '../../handlers/privacy.js';
import { findUser } from '../../lookup.js';
import { done, failed, refused, usage, type Command } from './types.js';

/** Progress lines are printed at most this often (in tenths of the work). */
const PROGRESS_STEPS = 10;

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

const backup: Command = {
  name: 'backup',
  args: [],
  flags: ['--list'],
  summary: 'online backup of the database now, with progress (--list: the backups kept)',
  async run(ctx, { args, flags }) {
    if (args.length) return usage(backup);
    const { services: s } = ctx;
    if (flags.has('--list')) {
      const all = listBackups(s.config.dataDir);
      if (!all.length) return done('no backups yet');
      return done(all.map((b) => `${b.file}  ${kib(b.bytes)}`).join('\n'));
    }
    let shown = -1;
    try {
      const r = await s.backups.backupNow((pages, total) => {
        const step = total ? Math.floor((pages / total) * PROGRESS_STEPS) : PROGRESS_STEPS;
        if (step > shown) {
          shown = step;
          s.log.announce(`backup: ${Math.round((step / PROGRESS_STEPS) * 100)}% (${pages}/${total} pages)`);
        }
      });
      s.audit(ctx.actor, 'backup', null, r.file);
      const rotated = r.removed.length ? `; removed the oldest: ${r.removed.join(', ')}` : '';
      return done(`backup written: ${r.file} (${kib(r.bytes)} in ${r.ms} ms)${rotated}`);
    } catch (err) {
      return failed(`error BACKUP_FAILED: ${(err as Error).message}`);
    }
  },
};

const exportUserCmd: Command = {
  name: 'export_user',
  args: [
    { name: 'user', kind: 'user' },
    { name: 'file', kind: 'word', optional: true },
  ],
  summary: "write everything the server holds about a user to a JSON file (GDPR access request)",
  async run(ctx, { args }) {
    if (args.length < 1 || args.length > 2) return usage(exportUserCmd);
    const r = await exportUserToFile(ctx.services, ctx.actor, args[0]!, args[1]);
    if (!r.ok) return r.error.code === 'INTERNAL' ? failed(`error EXPORT_FAILED: ${r.error.message}`) : refused(r.error);
    const { user, file, counts } = r.value;
    return done(
      `exported ${user} to ${file}: ${counts.roomMessages} room messages, ` +
        `${counts.friends} friends, ${counts.rooms} rooms ` +
        '(direct messages live only on the user’s devices: the user exports those from the app)',
    );
  },
};

const deleteUserCmd: Command = {
  name: 'delete_user',
  args: [{ name: 'user', kind: 'user' }],
  flags: ['--yes'],
  summary: 'erase an account and its room messages (GDPR erasure request); asks to confirm',
  async run(ctx, { args, flags }) {
    if (args.length !== 1) return usage(deleteUserCmd);
    const user = findUser(ctx.services, args[0]!);
    if (!isRow(user)) return refused(user.error);
    if (!flags.has('--yes')) {
      if (!ctx.io.interactive) return failed('this erases the account for good: add --yes to confirm');
      const sure = await ctx.io.confirm(`Erase ${user.username} and all their room messages for good?`);
      if (!sure) return failed('cancelled');
    }
    const r = deleteUser(ctx.services, ctx.actor, user.username);
    if (!r.ok) return refused(r.error);
    const n = r.value.messagesDeleted;
    return done(`erased ${r.value.username} (${n} room message${n === 1 ? '' : 's'} deleted, sessions ended)`);
  },
};

export const DATA_COMMANDS: readonly Command[] = [backup, exportUserCmd, deleteUserCmd];
