/** Data protection commands: /backup (on demand, with progress), /export_user and /delete_user (GDPR requests). */
import { writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { eraseAccount, exportUserData } from '../../handlers/privacy.js';
import { listBackups } from '../../backup.js';
import { done, failed, failure, usage, type Command } from './types.js';

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
    const { authority } = ctx;
    if (flags.has('--list')) {
      const all = listBackups(authority.config.dataDir);
      if (!all.length) return done('no backups yet');
      return done(all.map((b) => `${b.file}  ${kib(b.bytes)}`).join('\n'));
    }
    let shown = -1;
    try {
      const r = await authority.backups.backupNow((pages, total) => {
        const step = total ? Math.floor((pages / total) * PROGRESS_STEPS) : PROGRESS_STEPS;
        if (step > shown) {
          shown = step;
          authority.log.announce(`backup: ${Math.round((step / PROGRESS_STEPS) * 100)}% (${pages}/${total} pages)`);
        }
      });
      authority.audit(ctx.actor, 'backup', null, r.file);
      const rotated = r.removed.length ? `; removed the oldest: ${r.removed.join(', ')}` : '';
      return done(`backup written: ${r.file} (${kib(r.bytes)} in ${r.ms} ms)${rotated}`);
    } catch (err) {
      return failed(`error BACKUP_FAILED: ${(err as Error).message}`);
    }
  },
};

const exportUser: Command = {
  name: 'export_user',
  args: [
    { name: 'user', kind: 'user' },
    { name: 'file', kind: 'word', optional: true },
  ],
  summary: "write everything the server holds about a user to a JSON file (GDPR access request)",
  run(ctx, { args }) {
    if (args.length < 1 || args.length > 2) return usage(exportUser);
    const { authority } = ctx;
    const user = authority.store.users.byName(args[0]!);
    if (!user) return failed(`error UNKNOWN_USER: no user is named ${args[0]}`);
    const data = exportUserData(authority, user.id);
    if (!data) return failed(`error UNKNOWN_USER: no user is named ${args[0]}`);
    const name = args[1] ?? `export-${user.username}-${new Date().toISOString().slice(0, 10)}.json`;
    const file = isAbsolute(name) ? name : join(authority.config.dataDir, name);
    try {
      writeFileSync(file, JSON.stringify(data, null, 2), { mode: 0o600 });
    } catch (err) {
      return failed(`error EXPORT_FAILED: ${(err as Error).message}`);
    }
    authority.audit(ctx.actor, 'export_user', user.username, file);
    return done(
      `exported ${user.username} to ${file}: ${data.server.roomMessages.length} room messages, ` +
        `${data.server.friends.length} friends, ${data.server.rooms.length} rooms ` +
        '(direct messages live only on the user’s devices: the user exports those from the app)',
    );
  },
};

const deleteUser: Command = {
  name: 'delete_user',
  args: [{ name: 'user', kind: 'user' }],
  flags: ['--yes'],
  summary: 'erase an account and its room messages (GDPR erasure request); asks to confirm',
  async run(ctx, { args, flags }) {
    if (args.length !== 1) return usage(deleteUser);
    const { authority } = ctx;
    const user = authority.store.users.byName(args[0]!);
    if (!user) return failed(`error UNKNOWN_USER: no user is named ${args[0]}`);
    if (!flags.has('--yes')) {
      if (!ctx.io.interactive) return failed('this erases the account for good: add --yes to confirm');
      const sure = await ctx.io.confirm(`Erase ${user.username} and all their room messages for good?`);
      if (!sure) return failed('cancelled');
    }
    const r = eraseAccount(authority, user.id, ctx.actor.name);
    if (!r.ok) return failure(r.error);
    authority.audit(ctx.actor, 'delete_user', r.value.username, `${r.value.messagesDeleted} messages`);
    const n = r.value.messagesDeleted;
    return done(`erased ${r.value.username} (${n} room message${n === 1 ? '' : 's'} deleted, sessions ended)`);
  },
};

export const DATA_COMMANDS: readonly Command[] = [backup, exportUser, deleteUser];
