// Issue 13, part 2: a WHIP/WHEP session URL (PATCH, DELETE /session/{id}) may be changed only with a token of
// the session's room, and of its peer when the token names one (an admin token of the room may act on any of
// its sessions). Another room's valid token gets 403 and the session keeps flowing media: a @roamhq/wrtc WHEP
// viewer still decodes the publisher's frames. A missing token is 401; the right token still deletes (200).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runAtrium, withServer } from './lib/server.mjs';
import { publish, syntheticVideo, watch } from './lib/wrtc.mjs';

const SECRET = 'security-tokens-test-secret';
const ROOM = 'room-a';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function token(...args) {
  const r = await runAtrium(['token', '--secret', SECRET, ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

const bearer = (t) => (t ? { Authorization: `Bearer ${t}` } : {});

async function untilFrames(viewer, atLeast, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (viewer.frames() < atLeast) {
    assert.ok(Date.now() < deadline, `${what}: the viewer decoded ${viewer.frames()} frames, wanted ${atLeast}`);
    await sleep(100);
  }
}

test('PATCH and DELETE with another room\'s or peer\'s token: 403, and the media keeps flowing', { timeout: 60_000 }, async () => {
  const tokens = {
    publisher: await token('--room', ROOM, '--peer', 'pub', '--publish'),
    viewer: await token('--room', ROOM, '--peer', 'viewer', '--subscribe'),
    otherRoom: await token('--room', 'room-b', '--peer', 'pub', '--publish'),
    otherPeer: await token('--room', ROOM, '--peer', 'mallory', '--publish'),
    admin: await token('--room', ROOM, '--admin'),
  };
  await withServer({ name: 'security-tokens', args: ['--bind', '127.0.0.1', '--udp-port', '0', '--auth-secret', SECRET] }, async (server) => {
    const video = syntheticVideo();
    const publisher = await publish(server.url, ROOM, { peer: 'pub', tracks: [video.track], headers: bearer(tokens.publisher) });
    const viewer = await watch(server.url, ROOM, { peer: 'viewer', headers: bearer(tokens.viewer) });
    try {
      await untilFrames(viewer, 15, 'before the attempts');

      const attempt = async (method, url, t, extra = {}) => {
        const r = await fetch(url, { method, headers: { ...bearer(t), ...extra.headers }, body: extra.body });
        return { status: r.status, body: (await r.text()).trim() };
      };
      const patch = { headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' }, body: 'a=ice-ufrag:evil\r\na=ice-pwd:evilevilevilevilevilevil\r\n' };
      for (const url of [publisher.sessionUrl, viewer.sessionUrl]) {
        const del = await attempt('DELETE', url, tokens.otherRoom);
        assert.equal(del.status, 403, `DELETE with room-b's token: ${JSON.stringify(del)}`);
        assert.match(del.body, /room 'room-b'/);
        const p = await attempt('PATCH', url, tokens.otherRoom, { headers: { ...patch.headers, 'If-Match': '*' }, body: patch.body });
        assert.equal(p.status, 403, `PATCH with room-b's token: ${JSON.stringify(p)}`);
        assert.match(p.body, /room 'room-b'/);
        // The same room, but a token that names another peer (and is not an admin's).
        const peer = await attempt('DELETE', url, tokens.otherPeer);
        assert.equal(peer.status, 403, `DELETE with mallory's token: ${JSON.stringify(peer)}`);
        assert.match(peer.body, /peer 'mallory'/);
        // Missing and invalid tokens stay 401.
        assert.equal((await attempt('DELETE', url, null)).status, 401);
        assert.equal((await attempt('DELETE', url, 'not.a.jwt')).status, 401);
      }

      // Both sessions are intact: the viewer keeps decoding the publisher.
      const before = viewer.frames();
      await untilFrames(viewer, before + 30, 'after the refused attempts');

      // The right tokens still work: the admin of the room ends the viewer, the publisher its own session.
      assert.equal((await attempt('DELETE', viewer.sessionUrl, tokens.admin)).status, 200);
      assert.equal((await attempt('DELETE', publisher.sessionUrl, tokens.publisher)).status, 200);
      assert.equal((await attempt('DELETE', publisher.sessionUrl, tokens.publisher)).status, 404);
    } finally {
      viewer.stop();
      viewer.pc.close();
      publisher.pc.close();
      video.stop();
    }
  });
});
