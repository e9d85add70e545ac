/**
 * /ban on the real authority: the live session is cut, the account and every address it used
 * are blocked (login, registration, even a new connection), and /unban lifts all of it.
 * Each client connects from its own loopback address (127.0.0.2, …), so a ban of one blocks only
 * it; an address other accounts used lately is blocked only when the admin says so, and the
 * console's own address and --ban-exempt ranges never are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChandlerClient, ClosedInfo } from '../../../shared/client/index.js';
import { CLOSE_CODES } from '../../../shared/protocol/index.js';
import { newClient, PASSWORD, uniqueName } from '../../helpers/authority.js';
import { pinnedSocketFactory } from '../../../cli/node-socket.js';
import { spawnAuthority, type SpawnedAuthority } from './spawned.js';
import { processTestMs } from '../../helpers/timing.js';

let a: SpawnedAuthority;
const live: ChandlerClient[] = [];

const EXEMPT_RANGE = '127.0.1.0/24';

beforeAll(async () => {
  a = await spawnAuthority({ extraArgs: ['--ban-exempt', EXEMPT_RANGE] });
});
afterAll(async () => {
  for (const c of live) c.close();
  await a?.cleanup();
});

function client(localAddress: string): ChandlerClient {
  const c = newClient(a, { localAddress });
  live.push(c);
  return c;
}

/** Opens a bare pinned socket and reports how the authority closes it. */
function closeOfNewConnection(localAddress: string): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    const socket = pinnedSocketFactory({ fingerprint: a.fingerprint, localAddress })(a.url);
    socket.onclose = (ev) => resolve({ code: ev.code, reason: ev.reason });
  });
}

describe('/ban', () => {
  it('cuts a live session and refuses re-login and a new registration from the same address; /unban lifts it', async () => {
    const name = uniqueName('mallory');
    const victim = client('127.0.0.2');
    expect((await victim.register(name, PASSWORD)).ok).toBe(true);
    const closed = new Promise<ClosedInfo>((resolve) => victim.on('closed', resolve));

    const said = await a.command(`/ban ${name} spamming "the rooms"`, /banned .*\n/);
    expect(said).toMatch(new RegExp(`banned ${name}: 1 connection closed, addresses blocked: 127\\.0\\.0\\.2\n`));
    const info = await closed;
    expect(info.code).toBe(CLOSE_CODES.BANNED);
    expect(info.reason).toBe('banned: spamming the rooms');

    // The address is refused at connect: the socket is closed BANNED before any login.
    expect(await closeOfNewConnection('127.0.0.2')).toEqual({ code: CLOSE_CODES.BANNED, reason: 'this address is banned' });
    expect((await client('127.0.0.2').login(name, PASSWORD)).ok).toBe(false);
    expect((await client('127.0.0.2').register(uniqueName('sockpuppet'), PASSWORD)).ok).toBe(false);
    // Another address is not touched by this ban.
    expect((await client('127.0.0.9').register(uniqueName('neighbour'), PASSWORD)).ok).toBe(true);

    const users = await a.command('/users', /accounts?, \d+ online\n/);
    expect(users).toMatch(new RegExp(`^${name}\\s+user\\s+banned\\s+-$`, 'm'));

    const lifted = await a.admin(['/unban', name]);
    expect(lifted.code).toBe(0);
    expect(lifted.stdout).toMatch(new RegExp(`unbanned ${name}`));
    expect((await client('127.0.0.2').login(name, PASSWORD)).ok).toBe(true);
    expect((await client('127.0.0.2').register(uniqueName('newcomer'), PASSWORD)).ok).toBe(true);

    const audit = await a.command('/audit 2', /entries.*\n/);
    expect(audit).toMatch(new RegExp(`console\\s+ban\\s+${name}\\s+reason: spamming the rooms; addresses: 127\\.0\\.0\\.2`));
    expect(audit).toMatch(new RegExp(`control socket\\s+unban\\s+${name}\\s+ban lifted`));
  }, processTestMs(1));

  it('a shared address: the console shows who else used it and asks; the socket needs --ip or --no-ip', async () => {
    const alice = uniqueName('alice');
    const mallory = uniqueName('mallory');
    expect((await client('127.0.0.3').register(alice, PASSWORD)).ok).toBe(true);
    expect((await client('127.0.0.3').register(mallory, PASSWORD)).ok).toBe(true);

    // Console: the question names alice; "no" bans the account and leaves the address open.
    const asked = await a.command(`/ban ${mallory} spam`, /\[y\/N\] /);
    expect(asked).toMatch(new RegExp(`127\\.0\\.0\\.3 also used by ${alice}`));
    const answered = await a.command('n', /banned .*\n.*\n/);
    expect(answered).toMatch(new RegExp(`banned ${mallory}: \\d+ connections? closed, no address blocked\nnot blocked: 127\\.0\\.0\\.3 \\(shared with ${alice}\\)`));
    expect((await client('127.0.0.3').login(alice, PASSWORD)).ok).toBe(true);
    expect((await client('127.0.0.3').login(mallory, PASSWORD)).ok).toBe(false);
    expect((await a.admin(['/unban', mallory])).code).toBe(0);

    // The control socket cannot ask: it refuses, names the other account, and changes nothing.
    const refusedBan = await a.admin(['/ban', mallory, 'spam']);
    expect(refusedBan.code).toBe(1);
    expect(refusedBan.stderr).toMatch(new RegExp(`127\\.0\\.0\\.3 is shared[^]*also used by ${alice}[^]*--ip[^]*--no-ip[^]*nothing changed`));
    expect((await client('127.0.0.3').login(mallory, PASSWORD)).ok).toBe(true);

    // --ip says it up front: the address is blocked, alice with it.
    const withIp = await a.admin(['/ban', mallory, 'spam', '--ip']);
    expect(withIp.code).toBe(0);
    expect(withIp.stdout).toMatch(new RegExp(`banned ${mallory}: \\d+ connections? closed, addresses blocked: 127\\.0\\.0\\.3`));
    expect((await client('127.0.0.3').login(alice, PASSWORD)).ok).toBe(false);
    expect((await a.admin(['/unban', mallory])).code).toBe(0);
  }, processTestMs(2));

  it("never blocks the console's own address or a --ban-exempt range, and says so", async () => {
    const eve = uniqueName('eve');
    expect((await client('127.0.0.1').register(eve, PASSWORD)).ok).toBe(true);
    expect((await client('127.0.1.7').login(eve, PASSWORD)).ok).toBe(true);
    expect((await client('127.0.0.5').login(eve, PASSWORD)).ok).toBe(true);
    const r = await a.admin(['/ban', eve, '--ip']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/addresses blocked: 127\.0\.0\.5\n/);
    expect(r.stdout).toMatch(/not blocked: 127\.0\.0\.1 \(exempt: the console's own address\)/);
    expect(r.stdout).toMatch(new RegExp(`not blocked: 127\\.0\\.1\\.7 \\(exempt: in --ban-exempt ${EXEMPT_RANGE.replace(/\./g, '\\.')}\\)`));
    expect((await client('127.0.0.1').register(uniqueName('local'), PASSWORD)).ok).toBe(true);
    expect((await client('127.0.1.7').register(uniqueName('natted'), PASSWORD)).ok).toBe(true);
    expect((await client('127.0.0.5').register(uniqueName('blocked'), PASSWORD)).ok).toBe(false);
    expect((await a.admin(['/audit', '1'])).stdout).toMatch(/ban\s+\S+\s+addresses: 127\.0\.0\.5; not blocked: 127\.0\.0\.1/);
  }, processTestMs(2));
});
