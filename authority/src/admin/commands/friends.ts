/** /force_friend: a friendship an admin imposes (seed: "ajouter un ami de force"); the operation is handlers/friends.ts. */
import { forceFriendship } from '../../handlers/friends.js';
import { done, refused, usage, type Command } from './types.js';

const forceFriend: Command = {
  name: 'force_friend',
  args: [
    { name: 'a', kind: 'user' },
    { name: 'b', kind: 'user' },
  ],
  summary: 'make two users friends, no consent',
  run({ services: s, actor }, { args }) {
    if (args.length !== 2) return usage(forceFriend);
    const r = forceFriendship(s, actor, args[0]!, args[1]!);
    if (!r.ok) return refused(r.error);
    return done(`${r.value.a} and ${r.value.b} are now friends`);
  },
};

export const FRIEND_COMMANDS: readonly Command[] = [forceFriend];
