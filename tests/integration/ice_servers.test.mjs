// What atrium hands out for ICE (docs/turn.md), on loopback without a browser or a TURN server: --ice-servers URLs
// and --turn-urls with a credential minted from --turn-secret, in RFC 9725 Link headers (a plain OPTIONS and the
// POST's 201) and in the SDK's ice_servers request and join response. The credential is checked the way coturn
// checks it: base64(HMAC-SHA1(secret, "EXPIRY:PEER")), EXPIRY = now + --turn-ttl.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';

import WebSocket from 'ws';

import { withServer } from './lib/server.mjs';

const SECRET = 'links-secret';
const TTL = 600;
const STUN = 'stun:stun.example.org:3478';
const TURN = ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'];
const ARGS = ['--ice-servers', STUN, '--turn-secret', SECRET, '--turn-urls', TURN.join(','), '--turn-ttl', String(TTL)];

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => ((i * 7 + 3) & 0xff).toString(16).padStart(2, '0')).join(':').toUpperCase();
function offerSdp(direction = 'sendonly') {
  let sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n';
  [['audio', 111, 'opus/48000/2'], ['video', 96, 'VP8/90000']].forEach(([kind, pt, map], mid) => {
    sdp += `m=${kind} 9 UDP/TLS/RTP/SAVPF ${pt}\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n` +
      'a=ice-ufrag:lnks\r\na=ice-pwd:linksClientPassword00001\r\n' +
      `a=fingerprint:sha-256 ${FINGERPRINT}\r\na=setup:actpass\r\na=mid:${mid}\r\na=${direction}\r\na=rtcp-mux\r\n` +
      `a=rtpmap:${pt} ${map}\r\n`;
    if (direction === 'sendonly') sdp += `a=ssrc:${1000 + mid} cname:links\r\n`;
  });
  return sdp;
}

const password = (username) => crypto.createHmac('sha1', SECRET).update(username).digest('base64');

// One credential: EXPIRY:PEER with EXPIRY = now + TTL (a few seconds of slack), and coturn's password.
function assertCredential({ username, credential }, peer) {
  const [expiry, who] = username.split(':');
  assert.equal(who, peer);
  const now = Date.now() / 1000;
  assert.ok(Math.abs(Number(expiry) - (now + TTL)) < 10, `expiry ${expiry}, now ${now}`);
  assert.equal(credential, password(username));
}

// Link values as the header carries them (undici joins repeated headers with ", ").
function links(headers) {
  const raw = headers.get('link') ?? '';
  return [...raw.matchAll(/<([^>]*)>((?:;\s*[\w-]+="(?:[^"\\]|\\.)*")*)/g)].map((m) => {
    const params = Object.fromEntries([...m[2].matchAll(/;\s*([\w-]+)="((?:[^"\\]|\\.)*)"/g)].map((p) => [p[1], p[2]]));
    return { url: m[1], ...params };
  });
}

function checkLinks(list, peer) {
  assert.deepEqual(list.map((l) => l.url), [STUN, ...TURN]);
  assert.equal(list[0].rel, 'ice-server');
  assert.equal(list[0].username, undefined);
  for (const l of list.slice(1)) {
    assert.equal(l.rel, 'ice-server');
    assert.equal(l['credential-type'], 'password');
    assertCredential(l, peer);
  }
}

test('Link headers and SDK ice_servers carry a TURN credential minted per peer', async () => {
  await withServer({ args: ARGS, name: 'ice-servers' }, async (server) => {
    // A plain OPTIONS: the ICE servers before the offer.
    const options = await fetch(`${server.url}/whip/links?peer=alice`, { method: 'OPTIONS' });
    assert.equal(options.status, 204);
    checkLinks(links(options.headers), 'alice');
    // A CORS preflight gets no credentials.
    const preflight = await fetch(`${server.url}/whep/links`, { method: 'OPTIONS', headers: { 'Access-Control-Request-Method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('link'), null);
    assert.match(preflight.headers.get('access-control-allow-methods'), /POST/);
    // The POST's 201.
    const post = await fetch(`${server.url}/whip/links?peer=carol`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offerSdp() });
    assert.equal(post.status, 201, await post.clone().text());
    checkLinks(links(post.headers), 'carol');
    await fetch(new URL(post.headers.get('location'), server.url), { method: 'DELETE' });

    // SDK: ice_servers before the join, and in the join response.
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/sdk/v1`);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const answers = [];
    ws.on('message', (d) => answers.push(JSON.parse(String(d))));
    const ask = async (m) => {
      ws.send(JSON.stringify(m));
      const deadline = Date.now() + 3000;
      for (;;) {
        const r = answers.find((a) => a.type === 'response' && a.id === m.id);
        if (r) return r;
        if (Date.now() > deadline) throw new Error(`no answer to ${m.type}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const pre = await ask({ id: 1, type: 'ice_servers', room: 'links', peer: 'bob' });
    assert.equal(pre.ok, true, JSON.stringify(pre));
    const check = (servers) => {
      assert.deepEqual(servers[0], { urls: [STUN] });
      assert.deepEqual(servers[1].urls, TURN);
      assertCredential(servers[1], 'bob');
    };
    check(pre.result.ice_servers);
    const join = await ask({ id: 2, type: 'join', room: 'links', peer: 'bob', offer: offerSdp() });
    assert.equal(join.ok, true, JSON.stringify(join));
    check(join.result.ice_servers);
    ws.close();
  });
});

test('--turn-urls without --turn-secret is refused at start', async () => {
  await assert.rejects(withServer({ args: ['--turn-urls', TURN[0]], name: 'ice-servers-bad' }, async () => {}),
    /--turn-secret/);
});
