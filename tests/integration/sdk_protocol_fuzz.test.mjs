// The SDK's WebSocket under abuse (docs/protocol.md, "Connection"): malformed JSON, unknown and ill-typed requests,
// random junk, messages over 64 KiB, binary frames and a 1000 requests/s flood. Each gets a coded error or a closed
// socket, the server stays up, and two Chromium peers in the same room keep decoding each other throughout.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import WebSocket from 'ws';

import { withBrowser } from './lib/browser.mjs';
import { join, receiving, sdkPage, sleep, waitDecoding } from './lib/sdk.mjs';
import { withServer } from './lib/server.mjs';

const CODES = new Set(['BAD_REQUEST', 'UNKNOWN_REQUEST', 'NOT_JOINED', 'ALREADY_JOINED', 'INVALID_ARGUMENT',
  'PEER_ID_TAKEN', 'TRACK_EXISTS', 'TRACK_NOT_FOUND', 'LOCAL_TRACK_NOT_FOUND', 'PEER_NOT_SUBSCRIBED', 'NOT_MANUAL_MODE',
  'PEER_NOT_FOUND', 'NO_RECEIVER', 'SDP_REJECTED', 'PERMISSION_DENIED', 'TOKEN_MISSING', 'TOKEN_INVALID', 'TOKEN_EXPIRED',
  'TOKEN_WRONG_ROOM', 'TOKEN_WRONG_PEER', 'RESUME_FAILED', 'RATE_LIMITED', 'SERVER_FULL', 'CLUSTER_UNAVAILABLE']);

// A raw protocol client: every message it gets, and how its socket ended.
function raw(server) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/sdk/v1`);
  const c = { ws, messages: [], close: null };
  c.opened = new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  c.closed = new Promise((resolve) => ws.once('close', (code, reason) => { c.close = { code, reason: String(reason) }; resolve(c.close); }));
  ws.on('message', (data) => c.messages.push(JSON.parse(String(data))));
  ws.on('error', () => {});
  c.send = (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  c.response = async (id, timeoutMs = 3000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = c.messages.find((m) => m.type === 'response' && m.id === id);
      if (r) return r;
      if (Date.now() > deadline) throw new Error(`no response to id ${JSON.stringify(id)}; got ${JSON.stringify(c.messages.slice(-5))}; close ${JSON.stringify(c.close)}`);
      await sleep(10);
    }
  };
  // The response to the latest message sent without an id (the server echoes null).
  c.next = async (count, timeoutMs = 3000) => {
    const deadline = Date.now() + timeoutMs;
    while (c.messages.filter((m) => m.type === 'response').length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} responses, got ${JSON.stringify(c.messages)}`);
      await sleep(10);
    }
    return c.messages.filter((m) => m.type === 'response')[count - 1];
  };
  return c;
}

const code = (r) => (r.ok ? 'OK' : r.error?.code);

function junk(rng) {
  const pick = (a) => a[Math.floor(rng() * a.length)];
  const types = ['join', 'publish', 'unpublish', 'update_meta', 'update_track_meta', 'subscribe_peer',
    'unsubscribe_peer', 'attach', 'detach', 'set_limits', 'message', 'ping', 'nope', '', 'JOIN'];
  const values = [null, true, -1, 1e308, 4294967296, '', 'x'.repeat(300), '../..', [], {}, { a: [1, { b: null }] }, '\u0000\uffff', 'audio', 'video', '0', '1'];
  const fields = ['type', 'id', 'name', 'kind', 'mid', 'meta', 'peer', 'track', 'max_bitrate', 'priority', 'paused', 'data', 'to', 'room', 'offer', 'resume'];
  const r = rng();
  if (r < 0.15) return String.fromCharCode(...Array.from({ length: 1 + Math.floor(rng() * 60) }, () => Math.floor(rng() * 256)));
  if (r < 0.25) return JSON.stringify(pick(values));
  const m = { type: rng() < 0.9 ? pick(types) : pick(values) };
  if (rng() < 0.8) m.id = rng() < 0.5 ? Math.floor(rng() * 1e6) : pick(values);
  for (let i = 0; i < Math.floor(rng() * 6); i++) m[pick(fields)] = pick(values);
  const text = JSON.stringify(m);
  return rng() < 0.1 ? text.slice(0, Math.floor(rng() * text.length)) : text;
}

test('protocol fuzz: coded errors or a closed socket, and the room keeps its media', { timeout: 120_000 }, async () => {
  await withServer({ name: 'sdk-fuzz', args: ['--bind', '127.0.0.1', '--udp-port', '0'] }, async (server) => {
    await withBrowser({}, async (browser) => {
      const room = 'fuzz';
      const alice = await sdkPage(browser, server);
      const bob = await sdkPage(browser, server);
      await join(alice, { room, peer: 'alice' });
      await join(bob, { room, peer: 'bob' });
      await waitDecoding(alice, ['bob'], { label: 'alice' });
      await waitDecoding(bob, ['alice'], { label: 'bob' });
      const baseline = { alice: await receiving(alice), bob: await receiving(bob) };
      // A real offer for the raw client's join (its media never connects; the signalling is what is tested).
      const offer = await alice.evaluate(async () => {
        const pc = new RTCPeerConnection();
        pc.addTransceiver('video', { direction: 'recvonly' });
        const o = await pc.createOffer();
        pc.close();
        return o.sdp;
      });

      // Before joining: malformed JSON, non-objects, requests that need a join.
      const a = raw(server);
      await a.opened;
      a.send('{"type": "join", ');
      assert.equal(code(await a.next(1)), 'BAD_REQUEST');
      a.send('[1, 2, 3]');
      assert.equal(code(await a.next(2)), 'BAD_REQUEST');
      a.send({ id: 1, type: 'publish', name: 'x' });
      assert.equal(code(await a.response(1)), 'NOT_JOINED');
      a.send({ id: 2, type: 'frobnicate' });
      assert.equal(code(await a.response(2)), 'NOT_JOINED');
      a.send({ id: 3, type: 'ping' });
      assert.equal(code(await a.response(3)), 'OK');
      a.send({ id: 4, type: 'join', room, peer: 'mallory' }); // no offer: refused, and the socket closes
      assert.equal(code(await a.response(4)), 'INVALID_ARGUMENT');
      assert.ok([1000, 4001].includes((await a.closed).code), 'a refused join closes the socket');

      // Joined: every kind of nonsense gets its code, the socket stays open.
      const m = raw(server);
      await m.opened;
      m.send({ id: 'j', type: 'join', room, peer: 'mallory', offer });
      assert.equal(code(await m.response('j')), 'OK');
      const expect = [
        ['not json at all', 'BAD_REQUEST'],
        ['"a string"', 'BAD_REQUEST'],
        [{ id: 10 }, 'BAD_REQUEST'],
        [{ id: 11, type: 42 }, 'BAD_REQUEST'],
        [{ id: 12, type: 'frobnicate' }, 'UNKNOWN_REQUEST'],
        [{ id: 13, type: 'join', room, peer: 'mallory2', offer }, 'ALREADY_JOINED'],
        [{ id: 14, type: 'attach', peer: 'nobody', track: 'camera' }, 'TRACK_NOT_FOUND'],
        [{ id: 15, type: 'detach', mid: '99' }, 'LOCAL_TRACK_NOT_FOUND'],
        [{ id: 16, type: 'set_limits', mid: { x: 1 }, max_bitrate: -5 }, 'INVALID_ARGUMENT'], // "mid" must be a string
        [{ id: 17, type: 'publish', name: 'x', kind: 'video', mid: '0' }, 'INVALID_ARGUMENT'],
        [{ id: 18, type: 'publish', name: '../../etc', kind: 'video', mid: '0' }, 'INVALID_ARGUMENT'],
        [{ id: 19, type: 'unpublish', name: 'never' }, 'TRACK_NOT_FOUND'],
        [{ id: 20, type: 'message', to: 'ghost', data: { hi: 1 } }, 'PEER_NOT_FOUND'],
        [{ id: 21, type: 'message' }, 'INVALID_ARGUMENT'],
        [{ id: 22, type: 'subscribe_peer', peer: 'alice' }, 'NOT_MANUAL_MODE'],
      ];
      for (const [message, want] of expect) {
        const before = m.messages.filter((x) => x.type === 'response').length;
        m.send(message);
        const r = typeof message === 'object' && 'id' in message ? await m.response(message.id) : await m.next(before + 1);
        assert.equal(code(r), want, `${JSON.stringify(message)} -> ${JSON.stringify(r)}`);
      }
      // Deep nesting within the size limit.
      m.send(`{"id": 30, "type": "update_meta", "meta": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`);
      assert.ok(['OK', 'INVALID_ARGUMENT', 'BAD_REQUEST'].includes(code(await m.response(30))));
      m.send('['.repeat(60_000));
      await sleep(200);
      // Seeded random junk, paced under the rate limit: only responses with documented codes come back.
      let seed = 1234567;
      const rng = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
      for (let i = 0; i < 400; i++) {
        m.send(junk(rng));
        if (i % 50 === 49) await sleep(400);
      }
      m.send({ id: 'after-junk', type: 'ping' });
      const pong = await m.response('after-junk', 5000).catch(() => null);
      for (const x of m.messages) {
        if (x.type !== 'response' || x.ok) continue;
        assert.ok(CODES.has(x.error?.code), `undocumented error: ${JSON.stringify(x)}`);
      }
      assert.equal(pong && code(pong), 'OK', `no answer after the junk: ${JSON.stringify(m.messages.slice(-3))} close ${JSON.stringify(m.close)}`);
      console.log(`junk: ${m.messages.length} messages back, socket ${m.close ? `closed ${m.close.code}` : 'open'}`);

      // Over 64 KiB: 1009, before and after a join.
      const big = raw(server);
      await big.opened;
      big.send({ type: 'ping', pad: 'x'.repeat(70 * 1024) });
      assert.equal((await big.closed).code, 1009);
      const big2 = raw(server);
      await big2.opened;
      big2.send({ id: 'j', type: 'join', room, peer: 'bigmouth', offer });
      assert.equal(code(await big2.response('j')), 'OK');
      big2.send({ id: 'm', type: 'message', data: 'y'.repeat(65 * 1024) });
      assert.equal((await big2.closed).code, 1009);

      // A binary frame: 1003.
      const bin = raw(server);
      await bin.opened;
      bin.ws.send(Buffer.from([1, 2, 3]));
      assert.equal((await bin.closed).code, 1003);

      // 1000 requests per second for 2 s from one joined socket: RATE_LIMITED errors (or the socket closes).
      const f = raw(server);
      await f.opened;
      f.send({ id: 'j', type: 'join', room, peer: 'flooder', offer });
      assert.equal(code(await f.response('j')), 'OK');
      const started = Date.now();
      let sent = 0;
      // One request per elapsed millisecond, sent in small catch-up batches.
      while (Date.now() - started < 2000 && !f.close) {
        while (sent < Date.now() - started) f.send({ id: sent++, type: 'ping' });
        await sleep(5);
      }
      const sendMs = Date.now() - started;
      await sleep(500);
      const answers = f.messages.filter((x) => x.type === 'response');
      const limited = answers.filter((x) => code(x) === 'RATE_LIMITED').length;
      const ok = answers.filter((x) => code(x) === 'OK').length - 1; // minus the join
      console.log(`flood: ${sent} sent in ${sendMs} ms, ${ok} ok, ${limited} RATE_LIMITED, close ${JSON.stringify(f.close)}`);
      assert.ok(limited > 0 || f.close?.code === 1008, 'the flood was neither limited nor closed');
      assert.ok(ok <= 200 + 100 * 3, `${ok} requests served in ~2 s: not limited to 100/s + 200 burst`);

      // The server is up and the two peers still decode each other, frames rising since before the abuse.
      assert.equal(server.proc.exitCode, null, 'atrium exited');
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      const now = { alice: await receiving(alice), bob: await receiving(bob) };
      assert.ok(now.alice['bob/camera'].framesDecoded > baseline.alice['bob/camera'].framesDecoded, JSON.stringify([baseline, now]));
      assert.ok(now.bob['alice/camera'].framesDecoded > baseline.bob['alice/camera'].framesDecoded, JSON.stringify([baseline, now]));
      await waitDecoding(alice, ['bob'], { label: 'alice after the fuzz' });
      await waitDecoding(bob, ['alice'], { label: 'bob after the fuzz' });
      for (const c of [m, f]) c.ws.close();
    });
  }, { cleanExit: true });
});
