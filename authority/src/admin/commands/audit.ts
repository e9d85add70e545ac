/** The audit log: the latest entries, and a check of the whole hash chain. */
import { localTime, plural, table } from './format.js';
import { done, failed, usage, type Command } from './types.js';

const DEFAULT_ENTRIES = 20;
const MAX_ENTRIES = 1000;
const HEAD_SHOWN_CHARS = 16;

const audit: Command = {
  name: 'audit',
  args: [{ name: 'n|verify', kind: 'count', optional: true, choices: ['verify'] }],
  summary: `last n actions (${DEFAULT_ENTRIES}) or verify the chain`,
  run({ services: s }, { args }) {
    if (args.length > 1) return usage(audit);
    const arg = args[0];
    if (arg === 'verify') {
      const v = s.store.audit.verify();
      if (!v.ok && v.kind === 'key missing') return failed(`audit log CANNOT BE CHECKED: ${v.problem} (${v.entries} entries read)`);
      if (!v.ok) return failed(`audit log TAMPERED at entry ${v.id}: ${v.problem} (${v.entries} entries read)`);
      return done(
        `audit log intact: ${plural(v.entries, 'entry', 'entries')}, chain head ${v.head.slice(0, HEAD_SHOWN_CHARS)}…\n` +
          (v.anchored
            ? '(MACs checked with data/audit.key, head checked against data/audit.head; the log has each head too)'
            : '(no audit key: the chain alone does not show a rewrite by someone with the database file)'),
      );
    }
    const n = arg === undefined ? DEFAULT_ENTRIES : Number(arg);
    if (!Number.isInteger(n) || n < 1 || n > MAX_ENTRIES) return usage(audit);
    const rows = s.store.audit.recent(n);
    if (rows.length === 0) return done('the audit log is empty');
    const total = s.store.audit.count();
    return done(
      `${table(
        ['ID', 'WHEN', 'WHO', 'FROM', 'ACTION', 'TARGET', 'DETAIL'],
        rows.map((r) => [r.id, localTime(r.ts), r.actor, r.origin, r.action, r.target ?? '-', r.detail ?? '']),
      )}\n${rows.length} of ${total} entries (/audit verify checks the chain)`,
    );
  },
};

export const AUDIT_COMMANDS: readonly Command[] = [audit];
