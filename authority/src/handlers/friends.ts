/** Friend requests, friendships, presence between friends, and the admin's forced friendship. */
import type { FriendInfo } from '../../../shared/protocol/index.js';
import type { Connection } from '../connection.js';
import { fail, isRow, ok, type Actor, type Handler, type Outcome, type Services } from '../context.js';
import type { UserRow } from '../store/index.js';

/** Tells a user's online friends that they came online or went offline. */
export function announcePresence(s: Services, userId: number, online: boolean): void {
  const user = s.store.users.byId(userId);
  if (!user) return;
  for (const friendId of s.store.friends.friendIdsOf(userId)) {
    s.hub.sendToUser(friendId, { ev: 'presenceChanged', username: user.username, online });
  }
}

function tell(s: Services, to: UserRow, about: UserRow, state: FriendInfo['state'] | 'none'): void {
  s.hub.sendToUser(to.id, {
    ev: 'friendsChanged',
    username: about.username,
    state,
    online: state === 'friends' && s.hub.isOnline(about.id),
  });
}

function needOther(s: Services, c: Connection, username: string): UserRow | Outcome<never> {
  const other = s.store.users.byName(username.normalize('NFC'));
  if (!other) return fail('UNKNOWN_USER', { message: `no user is named ${username}` });
  if (other.id === c.user!.id) return fail('SELF_FRIEND');
  return other;
}

function makeFriends(s: Services, a: UserRow, b: UserRow): void {
  s.store.friends.befriend(a.id, b.id, s.now());
  tell(s, a, b, 'friends');
  tell(s, b, a, 'friends');
}

export const listFriends: Handler<'listFriends'> = (s, c) => {
  const friends = s.store.friends.linksOf(c.user!.id).map((l) => ({
    username: l.username,
    state: l.state,
    online: l.state === 'friends' && s.hub.isOnline(l.user_id),
  }));
  return ok({ friends });
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
  s.store.friends.addRequest(me.id, other.id, s.now());
  s.hub.sendToUser(other.id, { ev: 'friendRequested', username: me.username });
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
export function forceFriendship(s: Services, actor: Actor, a: string, b: string): Outcome<{ ok: true }> {
  const ua = s.store.users.byName(a.normalize('NFC'));
  if (!ua) return fail('UNKNOWN_USER', { message: `no user is named ${a}` });
  const ub = s.store.users.byName(b.normalize('NFC'));
  if (!ub) return fail('UNKNOWN_USER', { message: `no user is named ${b}` });
  if (ua.id === ub.id) return fail('SELF_FRIEND');
  if (s.store.friends.areFriends(ua.id, ub.id)) return fail('ALREADY_FRIENDS');
  makeFriends(s, ua, ub);
  s.audit(actor, 'force_friend', ua.username, `with ${ub.username}`);
  return ok({ ok: true as const });
}

export const forceFriend: Handler<'forceFriend'> = (s, c, p) =>
  forceFriendship(s, { name: c.user!.username, origin: c.ip }, p.a, p.b);
