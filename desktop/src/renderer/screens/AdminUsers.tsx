/** Users with ban / kick: needs the admin requests of the protocol (adminListUsers, adminBan…). */
import { useI18n } from '../i18n/index.js';
import type { Session } from '../state/session.js';

export function UsersPanel({ session }: { session: Session }) {
  const { t } = useI18n();
  void session;
  return <p className="empty-state">{t('admin.usersUnavailable')}</p>;
}
