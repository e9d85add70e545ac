/** Entry point: parse the command line and wire the authority together. */
import { stdin, stdout, stderr } from 'node:process';
import { Authority } from './server.js';
import { parseCommandLine } from './config.js';
import { createAdmin } from './admin/create-admin.js';
import { restoreFromBackup } from './admin/restore.js';
import { runningAuthorityPid } from './pidfile.js';
import { signalActor, startAdmin, type AdminSurfaces } from './admin/index.js';

async function main(): Promise<number> {
  const cmd = parseCommandLine(process.argv.slice(2), Boolean(stdin.isTTY));
  if (cmd.kind === 'help') {
    stdout.write(`${cmd.text}\n`);
    return 0;
  }
  if (cmd.kind === 'error') {
    stderr.write(`error: ${cmd.message}\n`);
    return 2;
  }
  if (cmd.kind === 'createAdmin') return createAdmin(cmd.config, cmd.username);
  if (cmd.kind === 'restore') return restoreFromBackup(cmd.config, cmd.file);

  // Before opening anything: a second authority on one data dir would fight over its files.
  const other = runningAuthorityPid(cmd.config.dataDir);
  if (other !== null) {
    stderr.write(`error: another authority is running on ${cmd.config.dataDir} (pid ${other}): stop it first\n`);
    return 1;
  }
  const authority = new Authority(cmd.config);
  const started = await authority.start();
  authority.log.announce(`CHandler authority ${authority.serverVersion} listening on ${started.url.replace(/\/ws$/, '')}`);
  authority.log.announce(`data directory: ${cmd.config.dataDir}`);
  if (started.fingerprint) {
    authority.log.announce(`certificate fingerprint (SHA-256): ${started.fingerprint}`);
    authority.log.announce(`certificate public key (SPKI SHA-256, base64): ${started.spkiHash}`);
  }
  const web = started.url.replace(/^ws/, 'http').replace(/\/ws$/, '/');
  authority.log.announce(`web client: ${web}`);

  let admin: AdminSurfaces;
  try {
    admin = await startAdmin(authority, { console: cmd.config.console, onStopped: () => process.exit(0) });
  } catch (err) {
    await authority.stop('the admin surfaces could not start');
    stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
  process.once('SIGTERM', () => void admin.shutdown('SIGTERM', signalActor('SIGTERM')));
  process.once('SIGINT', () => void admin.shutdown('SIGINT', signalActor('SIGINT')));
  return -1; // keep running
}

main().then(
  (code) => {
    // exitCode, not exit(): a piped stdout gets to drain first.
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    stderr.write(`fatal: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
