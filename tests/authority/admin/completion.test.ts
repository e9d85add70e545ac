/** Tab completion and line parsing of the console, against a real authority's users and rooms. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { complete, tokenize } from '../../../authority/src/admin/commands/index.js';
import { NO_LOGIN, startAuthority, type TestAuthority } from '../../helpers/authority.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
  const now = Date.now();
  for (const name of ['alice', 'albert', 'bob']) t.authority.store.users.create(name, NO_LOGIN, false, now);
  t.authority.store.rooms.create('Salle projets', 'closed', now);
});
afterAll(async () => {
  await t.cleanup();
});

describe('console completion', () => {
  it('completes command names, with or without the slash', () => {
    expect(complete(t.authority, '/sh')).toEqual([['/show_clients ', '/shutdown '], '/sh']);
    expect(complete(t.authority, 'ki')).toEqual([['kick ', 'kill '], 'ki']);
    expect(complete(t.authority, '')[0]).toContain('/ban ');
    expect(complete(t.authority, '/change')[0]).toEqual(['/change_password ']);
  });

  it('completes usernames and rooms by position, case-insensitively, quoting names with spaces', () => {
    expect(complete(t.authority, '/ban al')).toEqual([['albert ', 'alice '], 'al']);
    expect(complete(t.authority, '/force_friend alice B')).toEqual([['bob '], 'B']);
    expect(complete(t.authority, '/grant bob sal')).toEqual([['Salle\\ projets '], 'sal']);
    expect(complete(t.authority, '/grant bob "Salle p')).toEqual([['"Salle projets" '], '"Salle p']);
    expect(complete(t.authority, '/grant bob Salle\\ p')).toEqual([['Salle\\ projets '], 'Salle\\ p']);
    expect(complete(t.authority, '/create_room Atelier ap')).toEqual([['approval '], 'ap']);
    expect(complete(t.authority, '/audit v')).toEqual([['verify '], 'v']);
    expect(complete(t.authority, '/make_admin bob --')).toEqual([['--yes '], '--']);
    expect(complete(t.authority, '/ban bob because al')).toEqual([[], 'al']); // free text: nothing to offer
    expect(complete(t.authority, '/nope al')).toEqual([[], 'al']);
  });

  it('splits lines on spaces, keeps quoted spaces, and refuses an open quote', () => {
    expect(tokenize(`/ban bob "spam and 'more'" now`)).toEqual(['/ban', 'bob', "spam and 'more'", 'now']);
    expect(tokenize(`/grant bob 'Salle projets'`)).toEqual(['/grant', 'bob', 'Salle projets']);
    expect(tokenize('/create_room "" open')).toEqual(['/create_room', '', 'open']);
    expect(tokenize('/grant bob Salle\\ projets')).toEqual(['/grant', 'bob', 'Salle projets']);
    expect(tokenize('/ban "bob')).toBeNull();
    expect(tokenize('   ')).toEqual([]);
  });
});
