/**
 * The console as an admin drives it: the real authority process with its stdin piped, users
 * connected with the client core, and chandler-admin for the commands that go over the socket.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeError, type ChandlerClient, type ClosedInfo } from '../../../shared/client/index.js';
import type { ServerEvent } from '../../../shared/protocol/index.js';
import { CLOSE_CODES } from '../../../shared/protocol/index.js';
import { newClient, PASSWORD, uniqueName, until } from '../../helpers/authority.js';
import { spawnAuthority, type SpawnedAuthority } from './spawned.js';
import { LOADED_MS, processTestMs } from '../../helpers/timing.js';

let a: SpawnedAuthority;
let live: ChandlerClient[] = [];

beforeAll(async () => {
  a = await spawnAuthority();
});
afterAll(async () => {
  await a?.cleanup();
});
afterEach(() => {
  for (const c of live) c.close();
  live = [];
});

async function user(prefix: string): Promise<{ c: ChandlerClient; name: string }> {
  const name = uniqueName(prefix);
  const c = newClient(a);
  const r = await c.register(name, PASSWORD);
  if (!r.ok) throw new Error(`register ${name}: ${r.error.code}`);
  live.push(c);
  return { c, name };
}

async function login(name: string, password = PASSWORD) {
  const c = newClient(a);
  live.push(c);
  return { c, r: await c.login(name, password) };
}

function closedOf(c: ChandlerClient): Promise<ClosedInfo> {
  return new Promise((resolve) => c.on('closed', resolve));
}

function eventOf<E extends ServerEvent['ev']>(c: ChandlerClient, ev: E, pred: (e: Extract<ServerEvent, { ev: E }>) => boolean = () => true) {
  return new Promise<Extract<ServerEvent, { ev: E }>>((resolve) => {
    c.on('event', (e) => {
      if (e.ev === ev && pred(e as Extract<ServerEvent, { ev: E }>)) resolve(e as Extract<ServerEvent, { ev: E }>);
    });
  });
}

// Several logins per test, each a real scrypt at low priority in the authority process.
describe('admin console', { timeout: 4 * LOADED_MS }, () => {
  it('answers wrong input with the usage line or a clear error, and keeps running', async () => {
    expect(await a.command('/kick', /usage: .*\n/)).toMatch(/usage: \/kick <user> <seconds>/);
    expect(await a.command('/kick someone 1y', /usage: .*\n/)).toMatch(/usage: \/kick <user> <seconds>/);
    expect(await a.command('/kick nobody_here 10', /error .*\n/)).toMatch(/error UNKNOWN_USER: no user is named nobody_here/);
    expect(await a.command('/frobnicate now', /unknown .*\n/)).toMatch(/unknown command \/frobnicate: type \/help/);
    expect(await a.command('/create_room "unclosed open', /quote.*\n/)).toMatch(/a quote is left open/);
    expect(await a.command('/create_room Nouvelle sometimes', /error .*\n/)).toMatch(/error BAD_REQUEST: the policy is one of open, approval, closed/);
    expect(await a.command('/grant nobody_here Général', /error .*\n/)).toMatch(/UNKNOWN_USER/);
    const { name } = await user('ghost');
    expect(await a.command(`/grant ${name} Nowhere`, /error .*\n/)).toMatch(/error UNKNOWN_ROOM: no room is named Nowhere/);
    expect(await a.command(`/ban ${name} bell\u0007ring`, /error .*\n/)).toMatch(/INVALID_TEXT/);
    expect(await a.command(`/audit 0`, /usage: .*\n/)).toMatch(/usage: \/audit \[n\|verify\]/);
    expect(await a.command(`/x ${'y'.repeat(3000)}`, /error: .*\n/)).toMatch(/lines are at most 2000 characters/);
    // Still alive and answering.
    const rooms = await a.command('/rooms', /Marketing.*\n/);
    expect(rooms).toMatch(/^ROOM\s+POLICY\s+MEMBERS/m);
    expect(rooms).toMatch(/^Comptabilité\s+approval/m);
    expect(await a.command('help ban', /\/ban .*\n.*\n/)).toMatch(/\/ban <user> \[reason…\]/);
  });

  it('/show_clients lists two live users with address, rooms, version and traffic', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await alice.c.settled(alice.c.post('Général', 'bonjour'));
    const table = await a.command('/show_clients', /\d+ connections?, \d+ users?\n/);
    const row = (name: string) => table.split('\n').find((l) => l.includes(` ${name} `)) ?? '';
    for (const name of [alice.name, bob.name]) {
      expect(row(name)).toMatch(new RegExp(`^\\d+\\s+${name}\\s+127\\.0\\.0\\.1\\s+\\d\\d:\\d\\d:\\d\\d \\(\\d+ s\\)\\s+Général\\s+test/1\\s+\\d+\\s+\\d+\\s+\\d+(\\.\\d)? K?B$`));
    }
    const aliceIn = Number(row(alice.name).split(/\s+/).at(-4));
    expect(aliceIn).toBeGreaterThanOrEqual(3); // register, rooms, friends, the post…
    expect(table).toMatch(/^ID\s+USER\s+ADDRESS\s+SINCE\s+ROOMS\s+CLIENT\s+IN\s+OUT\s+QUEUE$/m);
  });

  it('/change_password at the prompt gives a one-time reset code and ends every session; the user chooses the new password', async () => {
    const carol = await user('carol');
    const closed = closedOf(carol.c);
    const said = await a.command(`/change_password ${carol.name}`, /every session ended\)\n/);
    const code = new RegExp(`reset code for ${carol.name}: (\\S+)`).exec(said)?.[1];
    expect(code).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect(said).toMatch(/valid until .*1 connection closed, every session ended/);
    expect((await closed).code).toBe(CLOSE_CODES.SESSION_ENDED);
    const resumed = newClient(a);
    live.push(resumed);
    expect((await resumed.resume(carol.c.session!.token)).ok).toBe(false);
    const old = await login(carol.name);
    expect(!old.r.ok && old.r.error.code).toBe('WRONG_CREDENTIALS');
    const chooser = newClient(a);
    live.push(chooser);
    const chosen = await chooser.resetPassword(carol.name, code!, 'Nouveau-mot-de-passe-42');
    expect(chosen.ok && chosen.value.user.mustChangePassword).toBe(false);
    const fresh = await login(carol.name, 'Nouveau-mot-de-passe-42');
    expect(fresh.r.ok).toBe(true);
    // The code is the admin's to hand over, once; the audit log says a code was made, not which.
    const audit = await a.command('/audit 3', /entries.*\n/);
    expect(audit).toMatch(new RegExp(`change_password\\s+${carol.name}\\s+reset code, valid until`));
    expect(audit).not.toContain(code!);
    expect(a.output()).not.toContain('Nouveau-mot-de-passe-42');
  });

  it('/change_password over the socket gives the code too (--generate, as before, is accepted)', async () => {
    const dave = await user('dave');
    const closed = closedOf(dave.c);
    const r = await a.admin(['/change_password', dave.name, '--generate']);
    expect(r.code).toBe(0);
    const code = new RegExp(`reset code for ${dave.name}: (\\S+)`).exec(r.stdout)?.[1];
    expect(code).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect((await closed).code).toBe(CLOSE_CODES.SESSION_ENDED);
    const c = newClient(a);
    live.push(c);
    expect((await c.resetPassword(dave.name, code!, 'Mon-propre-secret-7')).ok).toBe(true);
    expect((await c.call('listRooms', {})).ok).toBe(true);
  }, processTestMs(1));

  it('/make_admin asks to confirm, then gives access to every room at once; /revoke_admin takes it back', async () => {
    const eve = await user('eve');
    const frank = await user('frank');
    expect(await a.command(`/grant ${frank.name} Comptabilité`, /member of.*\n/)).toMatch(/is now a member of Comptabilité/);
    const denied = await eve.c.history('Comptabilité');
    expect(!denied.ok && denied.error.code).toBe('NOT_A_MEMBER');

    expect(await a.command(`/make_admin ${eve.name}`, /\[y\/N\]/)).toMatch(/Make .* an administrator/);
    const from = a.output().length;
    a.type('n\n');
    expect(await a.waitFor(/cancelled.*\n/, from)).toMatch(/cancelled: nothing changed/);
    const noYes = await a.admin(['/make_admin', eve.name]);
    expect(noYes.code).toBe(1);
    expect(noYes.stderr).toMatch(/confirm with --yes/);
    expect((await eve.c.history('Comptabilité')).ok).toBe(false);

    const promoted = eventOf(eve.c, 'adminChanged');
    await a.command(`/make_admin ${eve.name}`, /\[y\/N\]/);
    const from2 = a.output().length;
    a.type('y\n');
    expect(await a.waitFor(/now an admin\n/, from2)).toMatch(new RegExp(`${eve.name} is now an admin`));
    expect((await promoted).admin).toBe(true);
    // Live: a message in a room eve is not a member of reaches her open connection.
    const seen = eventOf(eve.c, 'messagePosted', (e) => e.room === 'Comptabilité');
    await frank.c.settled(frank.c.post('Comptabilité', 'bilan trimestriel'));
    expect((await seen).text).toBe('bilan trimestriel');
    expect((await eve.c.history('Comptabilité')).ok).toBe(true);

    const demoted = eventOf(eve.c, 'adminChanged');
    const r = await a.admin(['/revoke_admin', eve.name]);
    expect(r.code).toBe(0);
    expect((await demoted).admin).toBe(false);
    const again = await eve.c.history('Comptabilité');
    expect(!again.ok && again.error.code).toBe('NOT_A_MEMBER');
    const audit = await a.command('/audit 5', /entries.*\n/);
    expect(audit).toMatch(new RegExp(`console\\s+make_admin\\s+${eve.name}`));
    expect(audit).toMatch(new RegExp(`control socket\\s+revoke_admin\\s+${eve.name}`));
  }, processTestMs(2));

  it('/kick 2 refuses login, tells until when, then allows it after 2 s', async () => {
    const gus = await user('gus');
    const closed = closedOf(gus.c);
    // Connected beforehand, so that the refused login is one round trip after the kick.
    const retry = newClient(a);
    live.push(retry);
    expect((await retry.connect()).ok).toBe(true);
    const said = await a.command(`/kick ${gus.name} 2`, /kicked .*\n/);
    const refused = await retry.login(gus.name, PASSWORD);
    expect(!refused.ok && refused.error.code).toBe('KICKED');
    expect(said).toMatch(new RegExp(`kicked ${gus.name} until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\([12] s\\): 1 connection closed`));
    const info = await closed;
    expect(info.code).toBe(CLOSE_CODES.KICKED);
    expect(info.reason).toMatch(/^kicked until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const untilFromClose = closeError(info.code, info.reason).until!;
    const untilFromLogin = !refused.ok ? refused.error.until! : 0;
    expect(untilFromLogin).toBe(untilFromClose);
    // Once the clock has passed the end time, login works again.
    await until(() => Date.now() > untilFromLogin, 'the kick to end');
    const back = await login(gus.name);
    expect(back.r.ok).toBe(true);
  });

  it('/requests, /approve, /deny, /create_room, /grant, /revoke and /force_friend act live and are audited', async () => {
    const hugo = await user('hugo');
    const ines = await user('ines');
    expect((await hugo.c.requestAccess('Informatique')).ok).toBe(true);
    expect((await hugo.c.requestAccess('Marketing')).ok).toBe(true);
    const list = await a.command('/requests', /requests?: \/approve.*\n/);
    expect(list).toMatch(new RegExp(`^${hugo.name}\\s+Informatique\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+2$`, 'm'));

    const decided = eventOf(hugo.c, 'accessDecided', (e) => e.room === 'Informatique');
    expect(await a.command(`/approve ${hugo.name} Informatique`, /approved.*\n/)).toMatch(/approved: .* → Informatique/);
    expect(await decided).toMatchObject({ granted: true });
    expect(await a.command(`/deny ${hugo.name} Marketing`, /denied.*\n/)).toMatch(/denied: .* → Marketing/);
    expect(await a.command(`/deny ${hugo.name} Marketing`, /error .*\n/)).toMatch(/NO_SUCH_REQUEST/);

    const created = eventOf(ines.c, 'roomCreated');
    expect(await a.command('/create_room Cafétéria open', /created.*\n/)).toMatch(/room Cafétéria created \(open\)/);
    expect(await created).toMatchObject({ room: 'Cafétéria', policy: 'open' });
    // A closed room exists only for its members and the admins: ines hears of it when invited.
    expect(await a.command('/create_room "Salle projets" closed', /created.*\n/)).toMatch(/room Salle projets created \(closed\)/);
    expect(await a.command('/create_room "salle PROJETS" open', /error .*\n/)).toMatch(/ROOM_EXISTS/);
    const roomNames = async () => {
      const r = await ines.c.refreshRooms();
      return r.ok ? r.value.map((room) => room.name) : r.error.code;
    };
    expect(await roomNames()).not.toContain('Salle projets');
    const granted = eventOf(ines.c, 'accessGranted');
    await a.command(`/grant ${ines.name} "Salle projets"`, /member of.*\n/);
    expect((await granted).room).toBe('Salle projets');
    expect(await roomNames()).toContain('Salle projets');
    expect(await a.command(`/grant ${ines.name} "Salle projets"`, /error .*\n/)).toMatch(/ALREADY_MEMBER/);
    const revoked = eventOf(ines.c, 'accessRevoked');
    await a.command(`/revoke ${ines.name} "Salle projets"`, /no longer.*\n/);
    expect((await revoked).room).toBe('Salle projets');

    const friends = eventOf(hugo.c, 'friendsChanged', (e) => e.username === ines.name);
    expect(await a.command(`/force_friend ${hugo.name} ${ines.name}`, /friends\n/)).toMatch(/are now friends/);
    expect(await friends).toMatchObject({ state: 'friends', online: true });

    const audit = await a.command('/audit 7', /entries.*\n/);
    for (const action of ['approve', 'deny', 'create_room', 'grant', 'revoke', 'force_friend']) {
      expect(audit).toMatch(new RegExp(`\\s+console\\s+${action}\\s`));
    }
  });

  it('prints the bidi controls of a room name or a ban reason as markers, in replies and in log lines', async () => {
    const suffix = uniqueName('');
    const created = await a.command(`/create_room "ops\u2067x\u2069${suffix}" open`, /created.*\n/);
    expect(created).toContain(`room ops[U+2067]x[U+2069]${suffix} created (open)`);
    expect(created).toContain(`target=ops[U+2067]x[U+2069]${suffix}`);
    const rooms = await a.command('/rooms', new RegExp(`${suffix}.*\n`));
    expect(rooms).toMatch(new RegExp(`^ops\\[U\\+2067\\]x\\[U\\+2069\\]${suffix}\\s+open`, 'm'));
    const { name } = await user('rlo');
    await a.command(`/ban ${name} spam \u2067kcilc\u2069 --no-ip`, /banned.*\n/);
    const audit = await a.command('/audit 1', /entries.*\n/);
    expect(audit).toContain('spam [U+2067]kcilc[U+2069]');
    for (const out of [created, rooms, audit]) expect(out).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
  });

  it('/threads shows the event loop, the hashing workers, readers per room and timers', async () => {
    await user('ida');
    const out = await a.command('/threads', /libuv handles[^]*\n\n?$/);
    expect(out).toMatch(/event loop\s+lag mean [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms; busy [\d.]+ %/);
    expect(out).toMatch(/worker threads: password hashing \(scrypt\), 2 workers, \d+ job\(s\) queued/);
    expect(out).toMatch(/^Général\s+[1-9]\d*$/m);
    expect(out).toMatch(/sweep: .*\s+1 min$/m);
    expect(out).toMatch(/ping: .*\s+30 s$/m);
    expect(out).toMatch(/^backups\s+on the main thread in small steps; no backup yet; next daily /m);
  });
});
