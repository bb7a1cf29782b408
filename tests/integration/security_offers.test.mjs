// Issue 13, part 5: memory for nothing. An offer may have at most 16 audio and 16 video sections (400 beyond,
// with a sentence naming the limit); sessions that have not connected yet (ICE/DTLS not done) have their own
// caps, per client address (--max-pending-per-address, default 20) and in total (--max-pending-sessions,
// default 200), beyond which POST gets 503 with Retry-After; and a sending section's packet cache is
// allocated by its first packet, so sessions that never connect cost little. RSS is read from /proc.
// Offers are written by hand (no DTLS ever runs with them) except for one real @roamhq/wrtc viewer.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import { metric } from './lib/measure.mjs';
import { withServer } from './lib/server.mjs';
import { connected, watch } from './lib/wrtc.mjs';

const ARGS = ['--bind', '127.0.0.1', '--udp-port', '0'];
const FINGERPRINT = Array.from({ length: 32 }, (_, i) => ((i * 37 + 11) & 0xff).toString(16).padStart(2, '0'))
  .join(':')
  .toUpperCase();

/** A BUNDLEd WHEP offer of `video` recvonly VP8 sections. */
function whepOffer(video) {
  const mids = Array.from({ length: video }, (_, i) => String(i));
  let sdp = `v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE ${mids.join(' ')}\r\n`;
  for (const mid of mids) {
    sdp += 'm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n' +
      'a=ice-ufrag:sEcO\r\na=ice-pwd:securityOffersPassword01\r\n' +
      `a=fingerprint:sha-256 ${FINGERPRINT}\r\na=setup:actpass\r\na=mid:${mid}\r\n` +
      'a=recvonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n';
  }
  return sdp;
}

function rssMb(pid) {
  const kb = Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)[1]);
  return kb / 1024;
}

async function post(server, sdp, room = 'offers') {
  const r = await fetch(`${server.url}/whep/${room}`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: sdp });
  return { status: r.status, body: (await r.text()).trim(), retryAfter: r.headers.get('retry-after'), location: r.headers.get('location') };
}

test('an offer of 64 video sections is 400 naming the limit, and costs no memory', { timeout: 60_000 }, async () => {
  await withServer({ name: 'security-offers-sections', args: ARGS }, async (server) => {
    const offer = whepOffer(64);
    assert.ok(offer.length < 64 * 1024, `the offer is ${offer.length} bytes`);
    const before = rssMb(server.proc.pid);
    for (let i = 0; i < 10; i++) {
      const r = await post(server, offer);
      assert.equal(r.status, 400, JSON.stringify(r));
      assert.equal(r.body, 'The offer has 64 video sections; this server accepts at most 16 audio and 16 video sections.');
    }
    const grown = rssMb(server.proc.pid) - before;
    assert.ok(grown < 20, `RSS grew ${grown.toFixed(1)} MB for ten refused offers`);
    assert.equal((await post(server, whepOffer(17))).status, 400);
    const atLimit = await post(server, whepOffer(16));
    assert.equal(atLimit.status, 201, JSON.stringify(atLimit));
  });
});

test('500 WHEP POSTs that never connect: 20 per address (the default), the rest 503 + Retry-After, RSS under +50 MB', { timeout: 60_000 }, async () => {
  await withServer({ name: 'security-offers-pending', args: ARGS }, async (server) => {
    const offer = whepOffer(16); // the most sending sections an offer may have: 16 packet caches if allocated eagerly
    const before = rssMb(server.proc.pid);
    const results = [];
    for (let batch = 0; batch < 20; batch++) {
      results.push(...await Promise.all(Array.from({ length: 25 }, () => post(server, offer))));
    }
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 503);
    assert.equal(created.length, 20, `created ${created.length}; statuses ${[...new Set(results.map((r) => r.status))]}`);
    assert.equal(refused.length, 480);
    for (const r of refused) {
      assert.equal(r.retryAfter, '5', JSON.stringify(r));
      assert.equal(r.body, 'your address has 20 sessions that have not connected yet (--max-pending-per-address); try again later');
    }
    const grown = rssMb(server.proc.pid) - before;
    console.log(`RSS grew ${grown.toFixed(1)} MB for 500 POSTs (20 sessions of 16 sending sections)`);
    assert.ok(grown < 50, `RSS grew ${grown.toFixed(1)} MB`);
    assert.equal(await metric(server, 'atrium_webrtc_pending_sessions'), 20);

    // A removed session leaves the pending count: one DELETE makes room for one more.
    assert.equal((await fetch(new URL(created[0].location, server.url), { method: 'DELETE' })).status, 200);
    assert.equal((await post(server, offer)).status, 201);
    assert.equal((await post(server, offer)).status, 503);
  });
});

test('the total cap, and a session that connects leaves the pending count', { timeout: 60_000 }, async () => {
  await withServer({ name: 'security-offers-total', args: [...ARGS, '--max-pending-sessions', '2', '--max-pending-per-address', '10'] }, async (server) => {
    // A real viewer connects (ICE + DTLS): it is pending only until then.
    const viewer = await watch(server.url, 'offers');
    try {
      await connected(viewer.pc, 15_000);
      const deadline = Date.now() + 5000;
      while (await metric(server, 'atrium_webrtc_pending_sessions') !== 0) {
        assert.ok(Date.now() < deadline, 'the connected viewer still counts as pending');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const offer = whepOffer(1);
      assert.equal((await post(server, offer)).status, 201);
      assert.equal((await post(server, offer)).status, 201);
      const third = await post(server, offer);
      assert.equal(third.status, 503, JSON.stringify(third));
      assert.equal(third.retryAfter, '5');
      assert.equal(third.body, 'the server has 2 sessions that have not connected yet (--max-pending-sessions); try again later');
      assert.equal(await metric(server, 'atrium_webrtc_sessions'), 3);
    } finally {
      viewer.stop();
      viewer.pc.close();
    }
  });
});
