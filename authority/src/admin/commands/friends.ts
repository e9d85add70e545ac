/** Friendships an admin imposes (seed: "ajouter un ami de force"). */
import { forceFriendship } from '../../handlers/friends.js';
import { done, failure, usage, type Command } from './types.js';

const forceFriend: Command = {
  name: 'force_friend',
  args: [
    { name: 'a', kind: 'user' },
    { name: 'b', kind: 'user' },
  ],
  summary: 'make two users friends, no consent',
  run({ authority: s, actor }, { args }) {
    if (args.length !== 2) return usage(forceFriend);
    const r = forceFriendship(s, actor, args[0]!, args[1]!);
    if (!r.ok) return failure(r.error);
    const a = s.store.users.byName(args[0]!.normalize('NFC'))?.username ?? args[0];
    const b = s.store.users.byName(args[1]!.normalize('NFC'))?.username ?? args[1];
    return done(`${a} and ${b} are now friends`);
  },
};

export const FRIEND_COMMANDS: readonly Command[] = [forceFriend];
