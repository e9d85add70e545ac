/**
 * Look-alike usernames: `aIice` (capital i), `a1ice` and `alice` must not be three people.
 * The skeleton follows Unicode TS #39 §4 (skeleton(X): NFD, then each character replaced by its
 * prototype from confusables.txt) restricted to what a username may hold ([A-Za-z0-9._-]):
 * the confusables.txt rows whose source is in that set are 0 → O, 1 → l, I → l and m → rn.
 * Names are compared without regard to case (the column is COLLATE NOCASE), so the skeleton is
 * folded to lower case and mapped again (`M` → `m` → `rn`). Two names with one skeleton are
 * confusable; the store refuses the second (users.create, USERNAME_LOOKALIKE).
 */
const PROTOTYPES: Readonly<Record<string, string>> = { '0': 'O', '1': 'l', I: 'l', m: 'rn' };

function mapped(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFD')) out += PROTOTYPES[ch] ?? ch;
  return out;
}

export function nameSkeleton(username: string): string {
  return mapped(mapped(username).toLowerCase());
}

/** The SQL function migration 005 fills the column with (registered before migrations run). */
export const SKELETON_SQL_FUNCTION = 'name_skeleton';
