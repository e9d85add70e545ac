/**
 * Asks for a room (or joins it, when it is open) and says how it went in a toast: the sidebar
 * and the locked-room screen both offer it.
 */
import { toast } from '../components/Toasts.js';
import type { useI18n } from '../i18n/index.js';
import type { Session } from '../state/session.js';

export async function askForRoom(session: Session, room: string, t: ReturnType<typeof useI18n>['t'], err: ReturnType<typeof useI18n>['err']): Promise<boolean> {
  const r = await session.client.requestAccess(room);
  if (!r.ok) {
    toast('error', err(r.error));
    return false;
  }
  toast('success', r.value.access === 'member' ? t('toast.joined', { room }) : t('toast.accessRequested', { room }));
  return r.value.access === 'member';
}
