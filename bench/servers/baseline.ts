/**
 * Child process: the ceiling. A bare `ws` broadcast server that does nothing but relay: no
 * accounts, no validation, no storage. It speaks just enough of our protocol for the same load
 * generator to drive it (login joins the room named in the frame, postMessage is acked and
 * broadcast as a messagePosted event of the same shape, fetchHistory answers a made-up page).
 * Each socket is corked at its first write of an event-loop turn and uncorked once at the end
 * of the turn: the "corked per loop turn" server of the issue. `ws.send` frames per recipient.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { loadOrCreateTls } from '../../authority/src/tls.js';
import { serve } from '../ipc.js';
import { collect } from './collect.js';
import type { ServerLaunch, ServerReady } from './types.js';

interface Peer {
  ws: WebSocket;
  socket: Socket;
  room: string | null;
  corked: boolean;
}

const rooms = new Map<string, Set<Peer>>();
const seqs = new Map<string, number>();
let corked: Peer[] = [];
let uncorkScheduled = false;

function uncorkAll(): void {
  uncorkScheduled = false;
  const list = corked;
  corked = [];
  for (const p of list) {
    p.corked = false;
    p.socket.uncork();
  }
}

function send(p: Peer, data: string | Buffer): void {
  if (!p.corked) {
    p.corked = true;
    p.socket.cork();
    corked.push(p);
    if (!uncorkScheduled) {
      uncorkScheduled = true;
      setImmediate(uncorkAll);
    }
  }
  p.ws.send(data, { binary: false });
}

function onMessage(p: Peer, data: Buffer): void {
  let req: { id?: number; type?: string; room?: string; clientId?: string; text?: string; limit?: number; before?: number; username?: string };
  try {
    req = JSON.parse(data.toString()) as typeof req;
  } catch {
    return;
  }
  const id = req.id ?? 0;
  switch (req.type) {
    case 'login': {
      const room = String(req.room ?? 'Général');
      p.room = room;
      let set = rooms.get(room);
      if (!set) rooms.set(room, (set = new Set()));
      set.add(p);
      const user = { username: String(req.username ?? ''), admin: false, mustChangePassword: false };
      send(p, JSON.stringify({ re: id, ok: true, result: { token: '', user, iceServers: [], serverVersion: 'baseline' } }));
      return;
    }
    case 'postMessage': {
      const room = String(req.room);
      const seq = (seqs.get(room) ?? 0) + 1;
      seqs.set(room, seq);
      const ts = Date.now();
      send(p, JSON.stringify({ re: id, ok: true, result: { seq, ts, duplicate: false } }));
      const event = Buffer.from(
        JSON.stringify({ ev: 'messagePosted', room, seq, clientId: req.clientId, author: 'baseline', text: req.text, ts }),
      );
      const readers = rooms.get(room);
      if (readers) for (const r of readers) send(r, event);
      return;
    }
    case 'fetchHistory': {
      const room = String(req.room);
      const limit = Math.min(100, req.limit ?? 50);
      const top = req.before ?? 1_000_000;
      const messages = [];
      for (let seq = Math.max(1, top - limit); seq < top; seq++) {
        messages.push({ room, seq, clientId: `h${seq}`, author: 'baseline', text: 'x'.repeat(100), ts: seq });
      }
      send(p, JSON.stringify({ re: id, ok: true, result: { messages, hasMore: top - limit > 1 } }));
      return;
    }
    default:
      send(p, JSON.stringify({ re: id, ok: true, result: {} }));
  }
}

let server: Server | null = null;

async function start(launch: ServerLaunch): Promise<ServerReady> {
  let fingerprint: string | null = null;
  if (launch.tls) {
    const tls = await loadOrCreateTls(launch.dataDir);
    fingerprint = tls.fingerprint;
    server = createHttpsServer({ cert: tls.cert, key: tls.key });
  } else {
    server = createHttpServer();
  }
  const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, clientTracking: false });
  wss.on('connection', (ws, req) => {
    const peer: Peer = { ws, socket: req.socket as Socket, room: null, corked: false };
    ws.on('message', (data: Buffer) => onMessage(peer, data));
    ws.on('close', () => {
      if (peer.room) rooms.get(peer.room)?.delete(peer);
    });
    ws.on('error', () => undefined);
  });
  const s = server;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const address = s.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `${launch.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`, pid: process.pid, fingerprint };
}

process.on('SIGTERM', () => {
  server?.closeAllConnections();
  server?.close();
  process.exit(0);
});

serve({
  start: (body: ServerLaunch) => start(body),
  gc: () => collect(),
  stats: () => null,
});
