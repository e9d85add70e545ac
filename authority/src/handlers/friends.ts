/**
 * Friend requests and friendships, and the admin's forced friendship (presence between
 * friends is presence.ts).
 */
import { fail, LIMITS, ok, type ErrorCode, type FriendInfo, type Outcome } from '../../../shared/protocol/index.js';
import type { Connection } from '../connection.js';
import { acknowledged, actorOf, isRow, type Actor, type Handler, type Services } from '../context.js';
import { findUser, onePage } from '../lookup.js';
import type { UserRow } from '../store/index.js';

function tell(s: Services, to: UserRow, about: UserRow, state: FriendInfo['state'] | 'none'): void {
  s.hub.sendToUser(to.id, 'friendsChanged', {
    username: about.username,
    state,
    online: state === 'friends' && s.hub.isOnline(about.id),
  });
}

function needOther(s: Services, c: Connection, username: string): UserRow | Outcome<never, ErrorCode> {
  const other = findUser(s, username);
  if (!isRow(other)) return other;
  if (other.id === c.user!.id) return fail('SELF_FRIEND');
  return other;
}

function makeFriends(s: Services, a: UserRow, b: UserRow): void {
  s.store.friends.befriend(a.id, b.id, s.now());
  tell(s, a, b, 'friends');
  tell(s, b, a, 'friends');
}

/** Friends and friend requests both ways, a page at a time by name. */
export const listFriends: Handler<'listFriends'> = (s, c, p) => {
  const { items, next } = onePage(s.store.friends.linksPage(c.user!.id, p.after ?? '', LIMITS.listPageSize + 1), (l) => l.username);
  const friends = items.map((l) => ({
    username: l.username,
    state: l.state,
    online: l.state === 'friends' && s.hub.isOnline(l.user_id),
  }));
  return ok({ friends, next });
};

export const requestFriend: Handler<'requestFriend'> = (s, c, p) => {
  const other = needOther(s, c, p.username);
  if (!isRow(other)) return other;
  const me = s.store.users.byId(c.user!.id)!;
  if (s.store.friends.areFriends(me.id, other.id)) return fail('ALREADY_FRIENDS');
  if (s.store.friends.hasRequest(other.id, me.id)) {
    makeFriends(s, me, other); // they had asked me: asking back is accepting
    return ok({ state: 'friends' as const });
  }
  // Asking again while the request waits changes nothing and notifies nobody.
  if (s.store.friends.hasRequest(me.id, other.id)) return ok({ state: 'outgoing' as const });
  const rate = s.throttles.requestsPerUser.take(me.id, s.now());
  if (!rate.ok) return fail('RATE_LIMITED', { until: rate.until });
  s.store.friends.addRequest(me.id, other.id, s.now());
  s.hub.sendToUser(other.id, 'friendRequested', { username: me.username });
  tell(s, other, me, 'incoming');
  return ok({ state: 'outgoing' as const });
};

export const acceptFriend: Handler<'acceptFriend'> = (s, c, p) => {
  const other = needOther(s, c, p.username);
  if (!isRow(other)) return other;
  const me = s.store.users.byId(c.user!.id)!;
  if (s.store.friends.areFriends(me.id, other.id)) return fail('ALREADY_FRIENDS');
  if (!s.store.friends.hasRequest(other.id, me.id)) return fail('NO_FRIEND_REQUEST');
  makeFriends(s, me, other);
  return ok({ ok: true as const });
};

export const refuseFriend: Handler<'refuseFriend'> = (s, c, p) => {
  const other = needOther(s, c, p.username);
  if (!isRow(other)) return other;
  const me = s.store.users.byId(c.user!.id)!;
  if (!s.store.friends.removeRequest(other.id, me.id)) return fail('NO_FRIEND_REQUEST');
  tell(s, other, me, 'none');
  return ok({ ok: true as const });
};

export const removeFriend: Handler<'removeFriend'> = (s, c, p) => {
  const other = needOther(s, c, p.username);
  if (!isRow(other)) return other;
  const me = s.store.users.byId(c.user!.id)!;
  if (!s.store.friends.unfriend(me.id, other.id)) return fail('NOT_FRIENDS');
  s.store.dms.deleteBetween(me.id, other.id);
  tell(s, other, me, 'none');
  tell(s, me, other, 'none');
  return ok({ ok: true as const });
};

/** Admin: make two users friends without their consent (seed: "ajouter un ami de force"). */
export function forceFriendship(s: Services, actor: Actor, a: string, b: string): Outcome<{ a: string; b: string }, ErrorCode> {
  const ua = findUser(s, a);
  if (!isRow(ua)) return ua;
  const ub = findUser(s, b);
  if (!isRow(ub)) return ub;
  if (ua.id === ub.id) return fail('SELF_FRIEND');
  if (s.store.friends.areFriends(ua.id, ub.id)) return fail('ALREADY_FRIENDS');
  makeFriends(s, ua, ub);
  s.audit(actor, 'force_friend', ua.username, `with ${ub.username}`);
  return ok({ a: ua.username, b: ub.username });
}

export const forceFriend: Handler<'forceFriend'> = (s, c, p) => acknowledged(forceFriendship(s, actorOf(c), p.a, p.b));
