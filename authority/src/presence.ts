/** Presence between friends: a user's online friends hear when they come online or go offline. */
import type { Services } from './context.js';

export function announcePresence(s: Services, userId: number, online: boolean): void {
  const user = s.store.users.byId(userId);
  if (!user) return;
  for (const friendId of s.store.friends.friendIdsOf(userId)) {
    s.hub.sendToUser(friendId, 'presenceChanged', { username: user.username, online });
  }
}
