// Access tokens (docs/protocol.md, "Tokens") with --auth-secret: the SDK's join and requests get the documented
// error codes, WHIP/WHEP answer 401/403. Tokens are minted by `atrium token`, as an operator would.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { withBrowser } from './lib/browser.mjs';
import { join, sdkPage, waitDecoding } from './lib/sdk.mjs';
import { runAtrium, startServer } from './lib/server.mjs';

const SECRET = 'sdk-tokens-test-secret';
let server;

async function token(...args) {
  const r = await runAtrium(['token', '--secret', SECRET, ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

before(async () => {
  server = await startServer({ name: 'sdk-tokens', args: ['--bind', '127.0.0.1', '--udp-port', '0', '--auth-secret', SECRET] });
});
after(async () => {
  const result = await server.stop();
  assert.equal(result.code, 0, `atrium exited with ${JSON.stringify(result)}`);
});

test('the SDK: bad tokens refuse the join with their code; permissions refuse publish and attach', { timeout: 90_000 }, async () => {
  const room = 'tokens';
  const refused = {
    TOKEN_EXPIRED: await token('--room', room, '--peer', 'p1', '--ttl=-60'),
    TOKEN_WRONG_ROOM: await token('--room', 'another-room', '--peer', 'p1'),
    TOKEN_WRONG_PEER: await token('--room', room, '--peer', 'somebody-else'),
    TOKEN_INVALID: (await runAtrium(['token', '--secret', 'not-the-secret', '--room', room])).stdout.trim(),
    TOKEN_MISSING: undefined,
  };
  try {
    await withBrowser({}, async (browser) => {
      const page = await sdkPage(browser, server);
      for (const [code, t] of Object.entries(refused)) {
        const r = await join(page, { room, peer: 'p1', token: t, publish: false });
        assert.deepEqual(r, { error: code }, `a join with the ${code} token`);
      }
      const garbage = await join(page, { room, peer: 'p1', token: 'not.a.jwt', publish: false });
      assert.deepEqual(garbage, { error: 'TOKEN_INVALID' });

      // After refusals the same page joins with a good token (a refused join closes its socket; the next is clean).
      const alice = page;
      const ok = await join(alice, { room, peer: 'alice', token: await token('--room', room, '--peer', 'alice') });
      assert.equal(ok.peer, 'alice', JSON.stringify(ok));

      // Subscribe-only: joins and watches, may not publish.
      const viewer = await sdkPage(browser, server);
      const v = await join(viewer, { room, peer: 'viewer', token: await token('--room', room, '--subscribe'), publish: false });
      assert.equal(v.peer, 'viewer', JSON.stringify(v));
      const publishCode = await viewer.evaluate(async () => {
        const media = await navigator.mediaDevices.getUserMedia({ video: { width: 160, height: 120 } });
        try {
          await window.t.room.publish(media.getVideoTracks()[0], { name: 'camera' });
          return 'published';
        } catch (e) {
          return e.code;
        } finally {
          media.getTracks().forEach((m) => m.stop());
        }
      });
      assert.equal(publishCode, 'PERMISSION_DENIED');
      // Its sender is free again after the refusal: nothing was published.
      assert.equal(await viewer.evaluate(() => window.t.room.published.size), 0);
      await waitDecoding(viewer, ['alice'], { label: 'subscribe-only viewer' });

      // Publish-only ('*' room): publishes, may not attach.
      const sender = await sdkPage(browser, server);
      const s = await join(sender, { room, peer: 'sender', token: await token('--room', '*', '--publish'), subscribeAll: false });
      assert.equal(s.peer, 'sender', JSON.stringify(s));
      const attachCode = await sender.evaluate(() => window.t.room.subscribe('alice', 'camera').then(() => 'attached', (e) => e.code));
      assert.equal(attachCode, 'PERMISSION_DENIED');
      await waitDecoding(alice, ['sender'], { label: 'alice watching the publish-only peer' });
      for (const p of [alice, viewer, sender]) await p.evaluate(() => window.t.room.leave());
    });
  } catch (error) {
    console.error(`--- atrium log ---\n${server.tail(40)}\n---`);
    throw error;
  }
});

test('WHIP and WHEP: a bad token is 401, a missing permission 403', async () => {
  const room = 'tokens-whip';
  const post = (path, t, body = 'v=0\r\n') => fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', ...(t !== undefined ? { Authorization: `Bearer ${t}` } : {}) },
    body,
  });
  const cases = [
    ['no token', undefined],
    ['garbage', 'garbage'],
    ['expired', await token('--room', room, '--ttl=-60')],
    ['wrong room', await token('--room', 'elsewhere')],
    ['wrong secret', (await runAtrium(['token', '--secret', 'nope', '--room', room])).stdout.trim()],
  ];
  for (const [what, t] of cases) {
    for (const path of [`/whip/${room}`, `/whep/${room}`]) {
      const r = await post(path, t);
      assert.equal(r.status, 401, `${path} with ${what}: ${r.status} ${await r.text()}`);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    }
  }
  const whipWithSubscribeOnly = await post(`/whip/${room}`, await token('--room', room, '--subscribe'));
  assert.equal(whipWithSubscribeOnly.status, 403);
  const whepWithPublishOnly = await post(`/whep/${room}`, await token('--room', room, '--publish'));
  assert.equal(whepWithPublishOnly.status, 403);
  // A good token gets past the check: this "offer" is then refused for what it is, not for the token.
  const good = await post(`/whip/${room}`, await token('--room', room));
  assert.equal(good.status, 400, await good.text());
});
