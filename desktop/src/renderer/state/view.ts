/**
 * Which view the shell shows (a room, the friends list, a conversation, the admin panel) and
 * its stable key. Its own module so that the shell and the screens it hosts share it without
 * importing each other.
 */
export type View =
  | { kind: 'room'; name: string }
  | { kind: 'friends' }
  | { kind: 'dm'; username: string }
  | { kind: 'admin' };

export function viewKey(v: View): string {
  return v.kind === 'room' ? `room:${v.name}` : v.kind === 'dm' ? `dm:${v.username}` : v.kind;
}
