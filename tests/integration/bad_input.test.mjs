// Bad input (issue 3): every error status of the WHIP/WHEP API, and garbage on the media port (a STUN check with a
// wrong MESSAGE-INTEGRITY, truncated STUN/RTP/RTCP/DTLS, random datagrams). The garbage is counted in /metrics and
// the server keeps serving: afterwards a browser publishes and another page watches, as in whip_whep_browser.
//
// Offers are written by hand (no DTLS is ever run with them), STUN messages are built here with node:crypto, and
// every datagram goes to 127.0.0.1.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';

import { publishAndWatch, withBrowser } from './lib/browser.mjs';
import { atriumBin, startServer } from './lib/server.mjs';
import { execFileSync } from 'node:child_process';
import { metric } from './lib/measure.mjs';
import {
  answerTransport, bindingRequest, CLIENT_UFRAG, MAGIC_COOKIE, offerSdp, parseStun, WHEP_OFFER, WHIP_OFFER,
} from './lib/ice_check.mjs';

const ARGS = ['--bind', '127.0.0.1', '--udp-port', '0'];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- metrics ----------------------------------------------------------------------------------------------------


// Session counters reach /metrics on the worker's next tick: poll until `done(values)` or `ms` passed, and return
// the last values either way (the caller asserts on them).
async function metricsWhen(server, names, done, ms = 3000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const values = {};
    for (const name of names) values[name] = await metric(server, name);
    if (done(values) || Date.now() > deadline) return values;
    await sleep(25);
  }
}

// ---- HTTP -------------------------------------------------------------------------------------------------------

async function request(server, method, path, { body, type, headers = {} } = {}) {
  const h = { ...headers };
  if (type) h['Content-Type'] = type;
  const response = await fetch(`${server.url}${path}`, { method, headers: h, body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}
const postOffer = (server, path, sdp = WHIP_OFFER, headers = {}) =>
  request(server, 'POST', path, { body: sdp, type: 'application/sdp', headers });
const patch = (server, location, fragment, headers = {}) =>
  request(server, 'PATCH', location, { body: fragment, type: 'application/trickle-ice-sdpfrag', headers });

/** A sentence for a person: some words, not just a status line. */
function assertSentence(r, what) {
  const text = r.text.trim();
  assert.ok(text.length >= 20 && /\w+ \w+ \w+/.test(text), `${what}: expected a sentence, got ${JSON.stringify(r.text)}`);
}

async function created(server, path, sdp = WHIP_OFFER, headers = {}) {
  const r = await postOffer(server, path, sdp, headers);
  assert.equal(r.status, 201, `POST ${path}: ${r.status} ${r.text}`);
  assert.match(r.headers.get('location') ?? '', /^\/session\/\S+$/);
  assert.match(r.headers.get('etag') ?? '', /^".+"$/);
  return { location: r.headers.get('location'), etag: r.headers.get('etag'), answer: r.text };
}

// ---- UDP --------------------------------------------------------------------------------------------------------

async function udpSocket() {
  const socket = dgram.createSocket('udp4');
  const received = [];
  socket.on('message', (m) => received.push(m));
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    socket,
    received,
    port: socket.address().port,
    send: (bytes, port) => new Promise((resolve, reject) => socket.send(bytes, port, '127.0.0.1', (e) => (e ? reject(e) : resolve()))),
    // The STUN answer to transaction `tid`, or null after `ms`.
    async answerTo(tid, ms = 2000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const found = received.map(parseStun).find((m) => m && m.tid.equals(tid));
        if (found) return found;
        await sleep(10);
      }
      return null;
    },
    close: () => new Promise((resolve) => socket.close(resolve)),
  };
}

// Truncated packets of each kind the port demultiplexes (RFC 7983 first-byte ranges).
const TRUNCATED = {
  rtp: [Buffer.from([0x80, 0x60, 0x00]), Buffer.from([0x80, 0x60, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x03, 0xe9])],
  rtcp: [Buffer.from([0x80, 0xc8, 0x00]), Buffer.from([0x81, 0xc9, 0x00, 0x07, 0, 0, 0x55, 0x55])],
  dtls: [
    Buffer.from([0x16, 0xfe, 0xfd, 0x00, 0x00]), // record header cut
    Buffer.from([0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x01, 0x02]), // length past the end
    Buffer.from([0x17, 0xfe, 0xfd, 0x00, 0x01, 0, 0]), // application data cut
  ],
};

function randomDatagram() {
  const d = crypto.randomBytes(crypto.randomInt(0, 1401));
  if (d.length === 0) return d;
  switch (crypto.randomInt(0, 4)) {
    case 0: // STUN range, with the magic cookie
      d[0] &= 0x03;
      if (d.length >= 8) d.writeUInt32BE(MAGIC_COOKIE, 4);
      break;
    case 1: // DTLS range, DTLS 1.2 version
      d[0] = 20 + (d[0] % 44);
      if (d.length >= 3) d[1] = 0xfe, d[2] = 0xfd;
      break;
    case 2: // RTP / RTCP range
      d[0] = 0x80 | (d[0] & 0x3f);
      break;
    default:
      break;
  }
  return d;
}

// ---- HTTP statuses ----------------------------------------------------------------------------------------------

describe('WHIP/WHEP error statuses', () => {
  let server;
  before(async () => {
    server = await startServer({ name: 'bad-input-http', args: ARGS });
  });
  after(async () => {
    const result = await server.stop();
    assert.equal(result.code, 0, `atrium exited with ${JSON.stringify(result)}\n${server.tail()}`);
  });

  test('malformed SDP -> 400 with a sentence', async () => {
    for (const body of ['hello, this is not SDP', 'v=0\r\nm=video\r\n', WHIP_OFFER.replace('m=audio 9', 'm=audio nine')]) {
      const r = await postOffer(server, '/whip/bad400', body);
      assert.equal(r.status, 400, `${JSON.stringify(body.slice(0, 40))}: ${r.status} ${r.text}`);
      assertSentence(r, '400');
    }
    // Valid SDP, but not WebRTC: no ICE credentials, no fingerprint.
    const r = await postOffer(server, '/whip/bad400', 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n');
    assert.ok([400, 406].includes(r.status), `plain RTP/AVP offer: ${r.status} ${r.text}`);
    assertSentence(r, 'plain RTP/AVP offer');
  });

  test('only unsupported codecs -> 406 naming them', async () => {
    const sdp = offerSdp({ audio: [[0, 'PCMU/8000'], [8, 'PCMA/8000']], video: [[34, 'H263/90000']] });
    const r = await postOffer(server, '/whip/bad406', sdp);
    assert.equal(r.status, 406, r.text);
    assertSentence(r, '406');
    assert.match(r.text, /PCMU/);
    const viewer = await postOffer(server, '/whep/bad406', offerSdp({ direction: 'recvonly', audio: [[0, 'PCMU/8000']], video: [[34, 'H263/90000']] }));
    assert.equal(viewer.status, 406, viewer.text);
  });

  test('a WHIP offer that only receives or a WHEP offer that only sends -> 422', async () => {
    const whip = await postOffer(server, '/whip/bad422', WHEP_OFFER);
    assert.equal(whip.status, 422, whip.text);
    assertSentence(whip, 'recvonly WHIP offer');
    const whep = await postOffer(server, '/whep/bad422', WHIP_OFFER);
    assert.equal(whep.status, 422, whep.text);
    assertSentence(whep, 'sendonly WHEP offer');
    // a=setup:passive: the server is always the DTLS server.
    const passive = await postOffer(server, '/whip/bad422', WHIP_OFFER.replaceAll('a=setup:actpass', 'a=setup:passive'));
    assert.equal(passive.status, 422, passive.text);
  });

  test('unknown session: PATCH and DELETE -> 404', async () => {
    for (const id of ['0-000000000000', '1-ffffffffffff', 'nonsense', '99999-x']) {
      const p = await patch(server, `/session/${id}`, 'a=end-of-candidates\r\n');
      assert.equal(p.status, 404, `PATCH ${id}: ${p.status} ${p.text}`);
      const d = await request(server, 'DELETE', `/session/${id}`);
      assert.equal(d.status, 404, `DELETE ${id}: ${d.status} ${d.text}`);
    }
    // A deleted session is gone too.
    const s = await created(server, '/whip/bad404?peer=gone');
    assert.equal((await request(server, 'DELETE', s.location)).status, 200);
    assert.equal((await request(server, 'DELETE', s.location)).status, 404);
    assert.equal((await patch(server, s.location, 'a=end-of-candidates\r\n')).status, 404);
  });

  test('body over 64 KiB -> 413', async () => {
    const big = WHIP_OFFER + `a=x-padding:${'x'.repeat(70 * 1024)}\r\n`;
    let r;
    try {
      r = await postOffer(server, '/whip/bad413', big);
    } catch (error) {
      assert.fail(`no 413 answer, the request failed: ${error.cause?.code ?? error.message}`);
    }
    assert.equal(r.status, 413, r.text);
    // Just under the limit is read (and then refused for what it is, not for its size).
    const fits = await postOffer(server, '/whip/bad413', WHIP_OFFER + `a=x-padding:${'x'.repeat(60 * 1024)}\r\n`);
    assert.notEqual(fits.status, 413, fits.text);
    if (fits.status === 201) await request(server, 'DELETE', fits.headers.get('location'));
  });

  test('wrong Content-Type -> 415', async () => {
    for (const type of ['text/plain', 'application/json', 'application/sdpx']) {
      const r = await request(server, 'POST', '/whip/bad415', { body: WHIP_OFFER, type });
      assert.equal(r.status, 415, `${type}: ${r.status} ${r.text}`);
    }
    const s = await created(server, '/whip/bad415?peer=p');
    const p = await request(server, 'PATCH', s.location, { body: 'a=end-of-candidates\r\n', type: 'application/sdp' });
    assert.equal(p.status, 415, p.text);
    assert.equal((await request(server, 'DELETE', s.location)).status, 200);
  });

  // RFC 9725 section 4.3.2: an ICE restart carries `If-Match: *` (the wildcard, unquoted).
  test('PATCH: trickle 204, ICE restart 200 with a new ETag, stale If-Match 412, no If-Match 428', async () => {
    const s = await created(server, '/whip/bad412?peer=p');
    const trickle = await patch(server, s.location, 'a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n', { 'If-Match': s.etag });
    assert.equal(trickle.status, 204, trickle.text);

    const stale = await patch(server, s.location, 'a=ice-ufrag:nEw1\r\na=ice-pwd:aNewPasswordFor412Test00\r\n', { 'If-Match': '"not-the-etag"' });
    assert.equal(stale.status, 412, stale.text);

    const noMatch = await patch(server, s.location, 'a=ice-ufrag:nEw1\r\na=ice-pwd:aNewPasswordFor412Test00\r\n');
    assert.equal(noMatch.status, 428, noMatch.text);

    const restart = await patch(server, s.location, 'a=ice-ufrag:nEw1\r\na=ice-pwd:aNewPasswordFor412Test00\r\n', { 'If-Match': '*' });
    assert.equal(restart.status, 200, restart.text);
    assert.match(restart.text, /a=ice-ufrag:\S+/);
    const etag = restart.headers.get('etag');
    assert.ok(etag && etag !== s.etag, `ETag after the restart: ${etag} (was ${s.etag})`);

    // The ETag from before the restart is stale now.
    const old = await patch(server, s.location, 'a=ice-ufrag:nEw2\r\na=ice-pwd:anotherPasswordFor412Tst\r\n', { 'If-Match': s.etag });
    assert.equal(old.status, 412, old.text);
    assert.equal((await request(server, 'DELETE', s.location)).status, 200);
  });

  test('the same ?peer= twice in a room -> 409; in another room it is fine', async () => {
    const open = await metric(server, 'atrium_webrtc_sessions');
    const first = await created(server, '/whip/bad409?peer=alice');
    const again = await postOffer(server, '/whip/bad409?peer=alice');
    assert.equal(again.status, 409, again.text);
    assertSentence(again, '409');
    const viewer = await postOffer(server, '/whep/bad409?peer=alice', WHEP_OFFER);
    assert.equal(viewer.status, 409, `a viewer named like a publisher: ${viewer.status} ${viewer.text}`);
    const elsewhere = await created(server, '/whip/bad409-other?peer=alice');
    assert.equal(await metric(server, 'atrium_webrtc_sessions'), open + 2);
    await request(server, 'DELETE', first.location);
    await request(server, 'DELETE', elsewhere.location);
  });

  test('OPTIONS preflight -> 204 with CORS headers', async () => {
    for (const [path, methods] of [['/whip/room', ['POST']], ['/whep/room', ['POST']], ['/session/0-abc', ['PATCH', 'DELETE']]]) {
      const r = await request(server, 'OPTIONS', path, {
        headers: {
          Origin: 'http://elsewhere.example',
          'Access-Control-Request-Method': methods[0],
          'Access-Control-Request-Headers': 'authorization, content-type, if-match',
        },
      });
      assert.equal(r.status, 204, `${path}: ${r.status} ${r.text}`);
      assert.equal(r.headers.get('access-control-allow-origin'), '*', path);
      const allowed = (r.headers.get('access-control-allow-methods') ?? '').toUpperCase();
      for (const m of methods) assert.ok(allowed.includes(m), `${path}: Access-Control-Allow-Methods ${allowed}`);
      const allowHeaders = (r.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      for (const h of ['authorization', 'content-type', 'if-match']) assert.ok(allowHeaders.includes(h), `${path}: Access-Control-Allow-Headers ${allowHeaders}`);
      const exposed = (r.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/\s*,\s*/);
      for (const h of ['location', 'etag']) assert.ok(exposed.includes(h), `${path}: Access-Control-Expose-Headers ${exposed}`);
    }
    // The answers themselves carry them too, so a page on another origin can read Location and ETag.
    const r = await postOffer(server, '/whip/cors?peer=p');
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.match(r.headers.get('access-control-expose-headers') ?? '', /Location/i);
    assert.match(r.headers.get('access-control-expose-headers') ?? '', /ETag/i);
    await request(server, 'DELETE', r.headers.get('location'));
  });
});

describe('--max-sessions', () => {
  let server;
  before(async () => {
    server = await startServer({ name: 'bad-input-limit', args: [...ARGS, '--max-sessions', '2'] });
  });
  after(async () => {
    const result = await server.stop();
    assert.equal(result.code, 0, `atrium exited with ${JSON.stringify(result)}\n${server.tail()}`);
  });

  test('over the limit -> 503 with Retry-After; a freed slot is usable again', async () => {
    const a = await created(server, '/whip/limit?peer=a');
    await created(server, '/whep/limit?peer=b', WHEP_OFFER);
    const over = await postOffer(server, '/whip/limit?peer=c');
    assert.equal(over.status, 503, over.text);
    assertSentence(over, '503');
    const retry = over.headers.get('retry-after');
    assert.ok(retry && /^\d+$/.test(retry) && Number(retry) > 0, `Retry-After: ${retry}`);
    assert.equal((await postOffer(server, '/whep/other-room', WHEP_OFFER)).status, 503);
    assert.equal((await request(server, 'DELETE', a.location)).status, 200);
    await created(server, '/whip/limit?peer=c');
  });
});

describe('--auth-secret', () => {
  let server;
  before(async () => {
    server = await startServer({ name: 'bad-input-auth', args: [...ARGS, '--auth-secret', 's'] });
  });
  after(async () => {
    const result = await server.stop();
    assert.equal(result.code, 0, `atrium exited with ${JSON.stringify(result)}\n${server.tail()}`);
  });

  // Tokens are JWTs signed with the secret (`atrium token`); the secret itself is not a token.
  const token = (...args) => execFileSync(atriumBin(), ['token', '--secret', 's', ...args]).toString().trim();

  test('no bearer or a wrong one -> 401 with WWW-Authenticate; the right one works', async () => {
    const good = token('--room', 'auth');
    const forged = execFileSync(atriumBin(), ['token', '--secret', 'not-s', '--room', 'auth']).toString().trim();
    for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: 'Basic cw==' }, { Authorization: 'Bearer s' },
      { Authorization: `Bearer ${forged}` }, { Authorization: `Bearer ${token('--room', 'elsewhere')}` },
      { Authorization: `Bearer ${token('--room', 'auth', '--ttl', '-10')}` }]) {
      const r = await postOffer(server, '/whip/auth', WHIP_OFFER, headers);
      assert.equal(r.status, 401, `${JSON.stringify(headers)}: ${r.status} ${r.text}`);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await postOffer(server, '/whep/auth', WHEP_OFFER, headers)).status, 401);
    }
    // A token without the right permission: 403.
    assert.equal((await postOffer(server, '/whip/auth', WHIP_OFFER, { Authorization: `Bearer ${token('--room', 'auth', '--subscribe')}` })).status, 403);
    assert.equal((await postOffer(server, '/whep/auth', WHEP_OFFER, { Authorization: `Bearer ${token('--room', 'auth', '--publish')}` })).status, 403);
    const s = await created(server, '/whip/auth?peer=p', WHIP_OFFER, { Authorization: `Bearer ${good}` });
    assert.equal((await patch(server, s.location, 'a=end-of-candidates\r\n')).status, 401);
    assert.equal((await request(server, 'DELETE', s.location)).status, 401);
    assert.equal((await request(server, 'DELETE', s.location, { headers: { Authorization: 'Bearer wrong' } })).status, 401);
    // A preflight carries no credentials and is answered anyway.
    assert.equal((await request(server, 'OPTIONS', '/whip/auth', { headers: { Origin: 'http://elsewhere.example', 'Access-Control-Request-Method': 'POST' } })).status, 204);
    assert.equal((await request(server, 'DELETE', s.location, { headers: { Authorization: `Bearer ${good}` } })).status, 200);
  });
});

// ---- the media port ---------------------------------------------------------------------------------------------

describe('garbage on the media port', () => {
  let server;
  let target; // a WHIP session nobody completes: {location, ufrag, pwd, port}
  let client; // the socket that passes the ICE check
  let stranger; // a socket that never does

  before(async () => {
    server = await startServer({ name: 'bad-input-udp', args: ARGS });
    const s = await created(server, '/whip/garbage?peer=target');
    target = { ...s, ...answerTransport(s.answer) };
    client = await udpSocket();
    stranger = await udpSocket();
  });
  after(async () => {
    await client?.close();
    await stranger?.close();
    const result = await server.stop();
    assert.equal(result.code, 0, `atrium exited with ${JSON.stringify(result)}\n${server.tail()}`);
  });

  test('a STUN check with the right USERNAME and a wrong MESSAGE-INTEGRITY -> 401, counted', async () => {
    const before401 = await metric(server, 'atrium_stun_unauthorized_total');
    const { tid, bytes } = bindingRequest({ username: `${target.ufrag}:${CLIENT_UFRAG}`, key: target.pwd, wrongIntegrity: true });
    await stranger.send(bytes, target.port);
    const answer = await stranger.answerTo(tid);
    assert.ok(answer, 'no answer to a check with a wrong MESSAGE-INTEGRITY');
    assert.equal(answer.type, 0x0111, `STUN type 0x${answer.type.toString(16)}, expected a binding error response`);
    assert.equal(answer.errorCode, 401);
    assert.ok(!answer.attrs.has(0x0008), 'a 401 to an unauthenticated request carries no MESSAGE-INTEGRITY');
    const m = await metricsWhen(server, ['atrium_stun_unauthorized_total'], (v) => v.atrium_stun_unauthorized_total > before401);
    assert.equal(m.atrium_stun_unauthorized_total, before401 + 1);
  });

  test('a valid check is answered with the XOR-MAPPED-ADDRESS it came from', async () => {
    const { tid, bytes } = bindingRequest({ username: `${target.ufrag}:${CLIENT_UFRAG}`, key: target.pwd });
    await client.send(bytes, target.port);
    const answer = await client.answerTo(tid);
    assert.ok(answer, 'no answer to a valid check');
    assert.equal(answer.type, 0x0101, `STUN type 0x${answer.type.toString(16)}, expected a binding success response`);
    assert.deepEqual(answer.mapped, { ip: '127.0.0.1', port: client.port });
  });

  test('truncated STUN, RTP and RTCP from the checked address are counted and dropped', async () => {
    const names = ['atrium_malformed_dropped_total', 'atrium_udp_unknown_dropped_total'];
    const base = await metricsWhen(server, names, () => true);
    const valid = bindingRequest({ username: `${target.ufrag}:${CLIENT_UFRAG}`, key: target.pwd }).bytes;
    const badFingerprint = Buffer.from(valid);
    badFingerprint[badFingerprint.length - 1] ^= 1;
    const malformed = [valid.subarray(0, 30), badFingerprint, valid.subarray(0, valid.length - 4)];
    for (const d of malformed) await client.send(d, target.port);
    // No SRTP yet (no DTLS was run): RTP and RTCP cannot be placed.
    const unplaceable = [...TRUNCATED.rtp, ...TRUNCATED.rtcp];
    for (const d of unplaceable) await client.send(d, target.port);
    const m = await metricsWhen(server, names, (v) =>
      v.atrium_malformed_dropped_total - base.atrium_malformed_dropped_total >= malformed.length &&
      v.atrium_udp_unknown_dropped_total - base.atrium_udp_unknown_dropped_total >= unplaceable.length);
    assert.equal(m.atrium_malformed_dropped_total - base.atrium_malformed_dropped_total, malformed.length);
    assert.equal(m.atrium_udp_unknown_dropped_total - base.atrium_udp_unknown_dropped_total, unplaceable.length);
  });

  test('truncated DTLS records from the checked address are counted', async () => {
    const names = ['atrium_malformed_dropped_total', 'atrium_udp_unknown_dropped_total'];
    const base = await metricsWhen(server, names, () => true);
    const total = (v) => v.atrium_malformed_dropped_total + v.atrium_udp_unknown_dropped_total;
    for (const d of TRUNCATED.dtls) await client.send(d, target.port);
    const m = await metricsWhen(server, names, (v) => total(v) - total(base) >= TRUNCATED.dtls.length, 1000);
    assert.equal(total(m) - total(base), TRUNCATED.dtls.length,
      `${TRUNCATED.dtls.length} truncated DTLS records from a checked address, counted: ${total(m) - total(base)}`);
  });

  test('truncated packets and 1000 random datagrams from an unknown address are counted and dropped', async () => {
    const names = ['atrium_udp_unknown_dropped_total', 'atrium_udp_datagrams_received_total'];
    const base = await metricsWhen(server, names, () => true);
    const datagrams = [...TRUNCATED.rtp, ...TRUNCATED.rtcp, ...TRUNCATED.dtls, Buffer.alloc(0)];
    for (let i = 0; i < 1000; i += 1) datagrams.push(randomDatagram());
    for (let i = 0; i < datagrams.length; i += 1) {
      await stranger.send(datagrams[i], target.port);
      if (i % 50 === 49) await sleep(2); // let the worker drain its socket
    }
    const m = await metricsWhen(server, names, (v) =>
      v.atrium_udp_unknown_dropped_total - base.atrium_udp_unknown_dropped_total >= datagrams.length);
    const received = m.atrium_udp_datagrams_received_total - base.atrium_udp_datagrams_received_total;
    const unknown = m.atrium_udp_unknown_dropped_total - base.atrium_udp_unknown_dropped_total;
    assert.ok(received >= datagrams.length * 0.95, `sent ${datagrams.length}, received ${received}`);
    // The checked client's own keep-alive checks may land in the same window, so `received` can be a little more.
    assert.ok(unknown >= datagrams.length * 0.95 && unknown <= received,
      `every datagram from an address that never passed a check is dropped as unknown: sent ${datagrams.length}, received ${received}, unknown ${unknown}`);
    // Nothing is reflected to an unknown address: the only answer it ever got is the 401 above.
    await sleep(100);
    assert.equal(stranger.received.length, 1, `answers to the stranger: ${stranger.received.length}`);
  });

  test('random datagrams from the checked address do not crash the server', async () => {
    for (let i = 0; i < 300; i += 1) {
      await client.send(randomDatagram(), target.port);
      if (i % 50 === 49) await sleep(2);
    }
    await sleep(200);
    assert.equal(server.proc.exitCode, null, `atrium exited:\n${server.tail()}`);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  test('afterwards the server still serves: a browser publishes, another page watches', async () => {
    assert.equal(server.proc.exitCode, null, `atrium exited:\n${server.tail()}`);
    await withBrowser({}, (browser) => publishAndWatch(browser, server, 'after-garbage'));
    // The garbage target is still there (it has 30 s to finish ICE and DTLS); DELETE it.
    const d = await request(server, 'DELETE', target.location);
    assert.ok([200, 404].includes(d.status), `DELETE ${target.location}: ${d.status}`);
  });
});
