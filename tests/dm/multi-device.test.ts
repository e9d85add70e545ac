/**
 * DMs on every device of a user (issue 13 §2): relayed and stored envelopes reach each of the
 * recipient's devices (the authority keeps one until all have it); what one device sent, or
 * received over a direct channel, its user's other devices get as a copy sealed to the user's
 * own key. Devices are listed and revoked. Real authority, real engines, real WebRTC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannelKeys, sealEnvelope } from '../../shared/crypto/index.js';
import { FileDmStorage } from '../../cli/dm/index.js';
import { unlockIdentity } from '../../shared/client/dm/index.js';
import { newClient, PASSWORD, startAuthority, uniqueName, until, type TestAuthority } from '../helpers/authority.js';
import { befriend, closeAll, dmUser, goOffline, receivedText, TEST_KDF_N, type DmUser } from './helpers.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await closeAll();
  await t.cleanup();
});

function texts(u: DmUser, peer: string): string[] {
  const r = u.dm.conversation(peer);
  return r.ok ? r.value.map((m) => `${m.direction} ${m.text}`) : [];
}

/** Envelopes kept for the user (for `device`: those that device does not have yet). */
function waitingFor(name: string, device: string | null = null): number {
  const id = t.authority.store.users.byName(name)!.id;
  return t.authority.store.dms.pendingFor(id, 0, 0, 1000, device).length;
}

/**
 * Alice (one device) and bob with two devices, friends; relay only (no WebRTC) unless `direct`.
 * Alice's name sorts first: she initiates channels.
 */
async function aliceAndBob(options: { direct?: boolean } = {}) {
  const engine = options.direct ? {} : { engine: { createPeer: undefined } };
  const base = uniqueName('md');
  const alice = await dmUser(t, { name: `${base}a`, ...engine });
  const bob = await dmUser(t, { name: `${base}b`, ...engine });
  await befriend(alice, bob);
  const laptop = await dmUser(t, { name: bob.name, register: false, ...engine });
  expect(laptop.dm.keyId).toBe(bob.dm.keyId);
  expect(laptop.dm.deviceId).not.toBe(bob.dm.deviceId);
  return { alice, bob, laptop };
}

describe('a DM through the authority', () => {
  it('reaches every online device of the recipient', async () => {
    const { alice, bob, laptop } = await aliceAndBob();
    const sent = await alice.dm.send(bob.name, 'pour tous tes appareils');
    expect(sent.ok && sent.value.path).toBe('relayed');
    await receivedText(bob, 'pour tous tes appareils');
    await receivedText(laptop, 'pour tous tes appareils');
    expect(alice.events.keyChanged).toEqual([]);
    await until(() => waitingFor(bob.name) === 0, 'deleted once both devices have it');
  });

  it('is kept until each device has it: the one that comes back later still gets it', async () => {
    const { alice, bob, laptop } = await aliceAndBob();
    await goOffline(laptop);
    expect((await alice.dm.send(bob.name, 'tu liras ça plus tard')).ok).toBe(true);
    await receivedText(bob, 'tu liras ça plus tard');
    // Bob's desktop has it (acknowledged); the authority keeps it for his laptop.
    await until(() => waitingFor(bob.name, bob.dm.deviceId) === 0, "the desktop's acknowledgement");
    expect(waitingFor(bob.name)).toBe(1);
    expect(waitingFor(bob.name, laptop.dm.deviceId)).toBe(1);
    const back = await dmUser(t, { name: bob.name, dir: laptop.dir, register: false, engine: { createPeer: undefined } });
    await receivedText(back, 'tu liras ça plus tard');
    await until(() => waitingFor(bob.name) === 0, 'deleted once the laptop has it too');
  });
});

describe('copies between my devices', () => {
  it('what I send from one device shows on my other one', async () => {
    const { alice, bob, laptop } = await aliceAndBob();
    expect((await bob.dm.send(alice.name, 'envoyé du bureau')).ok).toBe(true);
    await receivedText(alice, 'envoyé du bureau');
    await until(() => texts(laptop, alice.name).includes('out envoyé du bureau'), 'the laptop shows it as sent by bob');
    const copy = laptop.dm.conversation(alice.name);
    expect(copy.ok && copy.value[0]).toMatchObject({ direction: 'out', author: bob.name });
    // Alice's receipt reaches both of bob's devices: the laptop sees it delivered too.
    await until(() => laptop.dm.conversation(alice.name).ok && (laptop.dm.conversation(alice.name) as { value: { status: string }[] }).value[0]!.status === 'delivered', 'delivered on the laptop');
  });

  it('a DM that came over a direct channel to one device reaches the other as a copy', async () => {
    // Both of bob's devices can take a channel: alice asks which is there and offers to the first.
    const { alice, bob, laptop } = await aliceAndBob({ direct: true });
    const sent = await alice.dm.send(bob.name, 'en direct');
    expect(sent.ok && sent.value.path).toBe('direct');
    // One of bob's devices took the channel; the other gets the copy, through the authority.
    const got = await Promise.all([receivedText(bob, 'en direct'), receivedText(laptop, 'en direct')]);
    expect(got.map((r) => r.path)).toEqual(['direct', 'direct']); // the copy keeps the path the DM took
    expect(alice.events.rejected).toEqual([]);
    expect(texts(bob, alice.name)).toEqual(['in en direct']);
    expect(texts(laptop, alice.name)).toEqual(['in en direct']);
  });

  it('a friend with two devices that both answer a knock: the first offer gets the channel, the other device the copy', async () => {
    // Bob sorts first, so alice knocks and bob's devices offer: both of them do.
    const base = uniqueName('kn');
    const bob = await dmUser(t, { name: `${base}a` });
    const alice = await dmUser(t, { name: `${base}b` });
    await befriend(alice, bob);
    const laptop = await dmUser(t, { name: bob.name, register: false });
    const sent = await alice.dm.send(bob.name, 'toc toc');
    expect(sent.ok && sent.value.path).toBe('direct');
    const got = await Promise.all([receivedText(bob, 'toc toc'), receivedText(laptop, 'toc toc')]);
    expect(got.map((r) => r.path)).toEqual(['direct', 'direct']);
    expect([...texts(bob, alice.name), ...texts(laptop, alice.name)]).toEqual(['in toc toc', 'in toc toc']);
  });

  it('with one device, nothing is copied or stored', async () => {
    const alice = await dmUser(t, { engine: { createPeer: undefined } });
    const bob = await dmUser(t, { engine: { createPeer: undefined } });
    await befriend(alice, bob);
    expect((await alice.dm.send(bob.name, 'seul appareil')).ok).toBe(true);
    await receivedText(bob, 'seul appareil');
    await until(() => waitingFor(alice.name) === 0 && waitingFor(bob.name) === 0, 'nothing waits');
  });

  it("the authority refuses a 'copy' that is not sealed to the user's own key", async () => {
    const { alice, bob } = await aliceAndBob();
    // A "copy" sealed from bob to alice: bob's devices would be used to carry DMs to someone else.
    const own = await unlockIdentity(new FileDmStorage(bob.dir), bob.name, PASSWORD, { kdfN: TEST_KDF_N, localOnly: true });
    if (!own.ok) throw new Error(own.error.code);
    const aliceKeys = await bob.client.call('fetchKeys', { username: alice.name });
    if (!aliceKeys.ok) throw new Error(aliceKeys.error.code);
    const me = { username: bob.name, identity: own.value.identity };
    const wire = sealEnvelope(createChannelKeys(me, { username: alice.name, identity: aliceKeys.value.identity }), {
      id: 'forwarded-copy-0001',
      body: { kind: 'sync', peer: alice.name, direction: 'in', text: 'x', path: 'relayed' },
    });
    const r = await bob.client.call('syncDm', { envelope: wire });
    expect(!r.ok && r.error.code).toBe('INVALID_KEYS');
  });
});

describe('the device list', () => {
  it('shows each device with its name; revoking one ends its session and it is gone from the list', async () => {
    const { bob, laptop } = await aliceAndBob();
    const listed = await bob.dm.listDevices();
    if (!listed.ok) throw new Error(listed.error.code);
    expect(listed.value.map((d) => d.id).sort()).toEqual([bob.dm.deviceId, laptop.dm.deviceId].sort());
    expect(listed.value.find((d) => d.current)?.id).toBe(bob.dm.deviceId);
    expect(listed.value.every((d) => d.online)).toBe(true);
    // The account's export (GDPR) lists them too.
    const exported = t.authority.store.privacy.exportUser(t.authority.store.users.byName(bob.name)!.id);
    expect(exported?.devices).toHaveLength(2);

    const self = await bob.dm.revokeDevice(bob.dm.deviceId!);
    expect(!self.ok && self.error.code).toBe('CANNOT_TARGET_SELF');
    const unknown = await bob.dm.revokeDevice('AAAAAAAAAAAAAAAAAAAAAA');
    expect(!unknown.ok && unknown.error.code).toBe('UNKNOWN_DEVICE');

    expect((await bob.dm.revokeDevice(laptop.dm.deviceId!)).ok).toBe(true);
    await until(() => laptop.client.status === 'closed', "the laptop's session ended");
    // Its token no longer opens a session.
    const token = laptop.client.session!.token;
    const again = await newClient(t).resume(token);
    expect(!again.ok && again.error.code).toBe('INVALID_SESSION');
    const after = await bob.dm.listDevices();
    expect(after.ok && after.value.map((d) => d.id)).toEqual([bob.dm.deviceId]);
  });
});
