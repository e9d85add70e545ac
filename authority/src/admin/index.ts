/**
 * The admin surfaces of a running authority: the console on its terminal (when there is one,
 * or when forced) and the control socket (always), with one graceful-stop path that every
 * way of stopping goes through: `kill`, `/shutdown`, Ctrl-C at the console, SIGTERM, SIGINT.
 */
import { userInfo } from 'node:os';
import type { Actor, AdminServices } from '../context.js';
import { AdminConsole } from './console.js';
import { ControlServer } from './control.js';
import { loopMonitor } from './loop-monitor.js';

export interface AdminOptions {
  console: boolean;
  /** Called once the authority has stopped (main exits the process). */
  onStopped: () => void;
}

export interface AdminSurfaces {
  controlPath: string;
  /** Idempotent graceful stop; `actor` is audited when given. */
  shutdown(reason: string, actor?: Actor): Promise<void>;
}

/** Who stops the server with a signal: the OS account that can signal it. */
export function signalActor(signal: string): Actor {
  return { name: userInfo().username, origin: `signal ${signal}` };
}

export async function startAdmin(authority: AdminServices, options: AdminOptions): Promise<AdminSurfaces> {
  loopMonitor(); // /threads reports the loop's lag from now on
  let stopping: Promise<void> | null = null;
  let adminConsole: AdminConsole | null = null;
  const shutdown = (reason: string, actor?: Actor): Promise<void> => {
    stopping ??= (async () => {
      if (actor) authority.audit(actor, 'shutdown', null, reason);
      adminConsole?.close();
      await control.close();
      await authority.stop(reason);
      options.onStopped();
    })();
    return stopping;
  };
  const control = await ControlServer.listen(authority, authority.config.dataDir, (reason, actor) => void shutdown(reason, actor));
  authority.log.announce(`control socket: ${control.path} (npm run -s admin -- /help --data ${authority.config.dataDir})`);
  if (options.console) {
    adminConsole = new AdminConsole(authority, {
      input: process.stdin,
      output: process.stdout,
      actor: { name: userInfo().username, origin: 'console' },
      shutdown: (reason, actor) => void shutdown(reason, actor),
    });
    adminConsole.start();
  }
  return { controlPath: control.path, shutdown };
}
