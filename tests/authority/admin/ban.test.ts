/**
 * /ban on the real authority: the live session is cut, the account and every address it used
 * are blocked (login, registration, even a new connection), and /unban lifts all of it.
 * Its own authority: banning 127.0.0.1 would lock every other test out.
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

beforeAll(async () => {
  a = await spawnAuthority();
});
afterAll(async () => {
  for (const c of live) c.close();
  await a?.cleanup();
});

function client(): ChandlerClient {
  const c = newClient(a);
  live.push(c);
  return c;
}

/** Opens a bare pinned socket and reports how the authority closes it. */
function closeOfNewConnection(): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    const socket = pinnedSocketFactory({ fingerprint: a.fingerprint })(a.url);
    socket.onclose = (ev) => resolve({ code: ev.code, reason: ev.reason });
  });
}

describe('/ban', () => {
  it('cuts a live session and refuses re-login and a new registration from the same address; /unban lifts it', async () => {
    const name = uniqueName('mallory');
    const victim = client();
    expect((await victim.register(name, PASSWORD)).ok).toBe(true);
    const closed = new Promise<ClosedInfo>((resolve) => victim.on('closed', resolve));

    const said = await a.command(`/ban ${name} spamming "the rooms"`, /banned .*\n/);
    expect(said).toMatch(new RegExp(`banned ${name}: 1 connection closed, addresses blocked: 127\\.0\\.0\\.1`));
    const info = await closed;
    expect(info.code).toBe(CLOSE_CODES.BANNED);
    expect(info.reason).toBe('banned: spamming the rooms');

    // The address is refused at connect: the socket is closed BANNED before any login.
    expect(await closeOfNewConnection()).toEqual({ code: CLOSE_CODES.BANNED, reason: 'this address is banned' });
    expect((await client().login(name, PASSWORD)).ok).toBe(false);
    expect((await client().register(uniqueName('sockpuppet'), PASSWORD)).ok).toBe(false);

    const users = await a.command('/users', /accounts?, \d+ online\n/);
    expect(users).toMatch(new RegExp(`^${name}\\s+user\\s+banned\\s+-$`, 'm'));

    const lifted = await a.admin(['/unban', name]);
    expect(lifted.code).toBe(0);
    expect(lifted.stdout).toMatch(new RegExp(`unbanned ${name}`));
    expect((await client().login(name, PASSWORD)).ok).toBe(true);
    expect((await client().register(uniqueName('newcomer'), PASSWORD)).ok).toBe(true);

    const audit = await a.command('/audit 2', /entries.*\n/);
    expect(audit).toMatch(new RegExp(`console\\s+ban\\s+${name}\\s+reason: spamming the rooms; addresses: 127\\.0\\.0\\.1`));
    expect(audit).toMatch(new RegExp(`control socket\\s+unban\\s+${name}\\s+ban lifted`));
  }, processTestMs(1));
});
