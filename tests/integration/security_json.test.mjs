// Issue 13, part 7: SDK fields of the wrong JSON type. Every message type of docs/protocol.md, with each of its
// fields in turn replaced by a number, an array, an object, null and a 1 MB string, gets the protocol's error
// reply naming the field (INVALID_ARGUMENT or BAD_REQUEST); null on an optional field and anything in an
// any-JSON field (meta, data) gets a normal reply; the 1 MB string closes the socket with 1009 (the 64 KiB
// message limit). Joined-state messages go over a socket that joined with a real offer (@roamhq/wrtc; its
// media never connects). Afterwards there is no "unhandled exception" in the log and a valid join works.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import WebSocket from 'ws';

import { withServer } from './lib/server.mjs';
import { newPeerConnection } from './lib/wrtc.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const ROOM = 'json';
const TYPE_ERRORS = new Set(['INVALID_ARGUMENT', 'BAD_REQUEST']);
const BIG = 'x'.repeat(1024 * 1024);
const REPLACEMENTS = [['a number', 7], ['an array', [1, 'a']], ['an object', { a: 1 }], ['null', null]];

// Field kinds: 'required' (a string that must be there), 'optional' (typed, null = absent), 'any' (any JSON),
// 'id' (number or string, optional), 'number' (an optional whole number).
const COMMON = { id: 'id', type: 'required' };
let peers = 0;
const SPECS = {
  join: { joined: false, fields: { room: 'required', peer: 'required', meta: 'any', peers: 'optional', tracks: 'optional', offer: 'required', token: 'optional' },
    base: (c) => ({ type: 'join', room: ROOM, peer: `p${++peers}`, offer: c.offer, meta: { n: 1 }, peers: 'auto', tracks: 'auto' }) },
  resume: { joined: false, fields: { resume: 'optional', 'resume.session': 'required', 'resume.secret': 'required', room: 'required' },
    base: (c) => ({ type: 'join', room: ROOM, peer: `p${++peers}`, offer: c.offer, resume: { session: 'no-such-session', secret: 'nope' } }) },
  leave: { joined: true, fields: {}, base: () => ({ type: 'leave' }) },
  publish: { joined: true, fields: { name: 'required', kind: 'required', mid: 'required', meta: 'any' }, base: (c) => ({ type: 'publish', name: 'cam', kind: 'video', mid: c.videoMid, meta: { a: 1 } }) },
  unpublish: { joined: true, fields: { name: 'required' }, base: () => ({ type: 'unpublish', name: 'cam' }) },
  update_meta: { joined: true, fields: { meta: 'any' }, base: () => ({ type: 'update_meta', meta: { b: 2 } }) },
  update_track_meta: { joined: true, fields: { name: 'required', meta: 'any' }, base: () => ({ type: 'update_track_meta', name: 'cam', meta: { c: 3 } }) },
  subscribe_peer: { joined: true, fields: { peer: 'required' }, base: () => ({ type: 'subscribe_peer', peer: 'nobody' }) },
  unsubscribe_peer: { joined: true, fields: { peer: 'required' }, base: () => ({ type: 'unsubscribe_peer', peer: 'nobody' }) },
  attach: { joined: true, fields: { peer: 'required', track: 'required' }, base: () => ({ type: 'attach', peer: 'nobody', track: 'cam' }) },
  detach: { joined: true, fields: { mid: 'required' }, base: () => ({ type: 'detach', mid: '5' }) },
  set_limits: { joined: true, fields: { mid: 'required', max_bitrate: 'number', priority: 'number', paused: 'optional', lower_frame_rate: 'optional' },
    base: () => ({ type: 'set_limits', mid: '5', max_bitrate: 100000, priority: 1, paused: false, lower_frame_rate: false }) },
  message: { joined: true, fields: { data: 'any', to: 'optional' }, base: () => ({ type: 'message', data: { hi: 1 } }) },
  ping: { joined: true, fields: {}, base: () => ({ type: 'ping' }) },
};

function client(server) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/sdk/v1`);
  const c = { ws, responses: [], close: null };
  c.opened = new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  c.closed = new Promise((resolve) => ws.once('close', (code) => { c.close = code; resolve(code); }));
  ws.on('message', (data) => { const m = JSON.parse(String(data)); if (m.type === 'response') c.responses.push(m); });
  ws.on('error', () => {});
  // Sends one request and waits for the next response (ids may be what is under test, so responses are counted).
  c.ask = async (message, timeoutMs = 3000) => {
    const want = c.responses.length + 1;
    ws.send(JSON.stringify(message));
    const deadline = Date.now() + timeoutMs;
    while (c.responses.length < want) {
      if (Date.now() > deadline) throw new Error(`no response to ${JSON.stringify(message).slice(0, 300)}; close ${c.close}`);
      await sleep(2);
    }
    await sleep(10); // stay under the 100 requests/s limit
    return c.responses[want - 1];
  };
  return c;
}

function replaced(message, field, value) {
  const m = structuredClone(message);
  const [outer, inner] = field.split('.');
  if (inner) m[outer][inner] = value;
  else m[field] = value;
  return m;
}

async function joinedClient(server, ctx) {
  const c = client(server);
  await c.opened;
  const r = await c.ask(SPECS.join.base(ctx));
  assert.equal(r.ok, true, `join: ${JSON.stringify(r)}`);
  return c;
}

// What a reply must be for `field` (of `kind`) replaced by `value`.
function check(type, field, kind, what, value, reply) {
  const label = `${type}.${field} = ${what}: ${JSON.stringify(reply)}`;
  const normal = kind === 'any' || (value === null && kind !== 'required') || (['id', 'number'].includes(kind) && typeof value === 'number');
  const key = field.split('.').pop();
  if (normal) {
    assert.ok(reply.ok || !TYPE_ERRORS.has(reply.error?.code), `a normal reply expected for ${label}`);
  } else {
    assert.equal(reply.ok, false, label);
    assert.ok(TYPE_ERRORS.has(reply.error.code), label);
    assert.ok(reply.error.message.includes(`"${key}"`), `the message names "${key}": ${label}`);
  }
}

test('every SDK field of the wrong type gets an error reply, never an exception', { timeout: 90_000 }, async () => {
  // Many joins whose media never connects: lift the pending-session caps for this test.
  const args = ['--bind', '127.0.0.1', '--udp-port', '0', '--max-pending-sessions', '1000', '--max-pending-per-address', '1000'];
  await withServer({ name: 'security-json', args }, async (server) => {
    const pc = newPeerConnection();
    pc.addTransceiver('audio', { direction: 'sendonly' });
    pc.addTransceiver('video', { direction: 'sendonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const offer = (await pc.createOffer()).sdp;
    pc.close();
    const ctx = { offer, videoMid: '1' };

    let checked = 0;
    const closes = {};
    const joined = await joinedClient(server, ctx);
    for (const [type, spec] of Object.entries(SPECS)) {
      const fields = { ...COMMON, ...spec.fields };
      for (const [field, kind] of Object.entries(fields)) {
        for (const [what, value] of REPLACEMENTS) {
          const message = replaced(spec.base(ctx), field, value);
          const normal = kind === 'any' || (value === null && kind !== 'required') || (['id', 'number'].includes(kind) && typeof value === 'number');
          // Requests that end or bind the socket when they succeed get a socket of their own.
          const own = !spec.joined || (type === 'leave' && normal);
          const c = own ? (spec.joined ? await joinedClient(server, ctx) : client(server)) : joined;
          await c.opened;
          check(type, field, kind, what, value, await c.ask(message));
          checked += 1;
          if (own) c.ws.close();
        }
        // 1 MB in this field: over the 64 KiB limit, the socket closes with 1009 and nothing is answered.
        // Boost.Beast's teardown (websocket/impl/teardown.hpp, async_teardown) stops draining after its first
        // read that follows a wait, so the kernel may reset the connection with part of the megabyte unread
        // and the client then sees 1006 instead of the close frame; about one in four times here.
        const c = spec.joined ? await joinedClient(server, ctx) : client(server);
        await c.opened;
        const answered = c.responses.length;
        c.ws.send(JSON.stringify(replaced(spec.base(ctx), field, BIG)));
        const closedWith = await c.closed;
        assert.ok(closedWith === 1009 || closedWith === 1006, `${type}.${field} = 1 MB: closed with ${closedWith}`);
        closes[closedWith] = (closes[closedWith] ?? 0) + 1;
        assert.equal(c.responses.length, answered, `${type}.${field} = 1 MB was answered`);
        checked += 1;
      }
    }
    console.log(`${checked} replacements checked; 1 MB messages closed with ${JSON.stringify(closes)}`);
    assert.ok((closes[1009] ?? 0) > 0, 'no 1 MB message was closed with 1009');
    assert.equal(joined.close, null, 'the joined socket survived every bad request');
    assert.equal((await joined.ask({ id: 'still', type: 'ping' })).ok, true);
    joined.ws.close();

    // The server still answers a valid join, and never let an exception reach the top.
    const after = client(server);
    await after.opened;
    const r = await after.ask({ id: 'last', type: 'join', room: ROOM, peer: 'after', offer });
    assert.equal(r.ok, true, JSON.stringify(r));
    after.ws.close();
    const log = fs.readFileSync(server.logFile, 'utf8');
    assert.ok(!log.includes('unhandled exception'), `the log has an unhandled exception:\n${log.split('\n').filter((l) => l.includes('unhandled')).join('\n')}`);
  }, { cleanExit: true });
});
