// The room SDK end to end: real Chromium pages use the compiled SDK (/web/sdk/atrium.js) against the real server.
// Three pages see and decode each other; a manual-mode page gets nothing until it asks; unpublish, leave, a
// dropped socket that resumes, and a closed page are seen by the others as the protocol says (docs/protocol.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { withBrowser } from './lib/browser.mjs';
import { events, join, packetsIn, receiving, sdkPage, sleep, until, waitDecoding } from './lib/sdk.mjs';
import { withServer } from './lib/server.mjs';

test('three SDK pages decode each other; manual mode, unpublish, leave, resume and a closed page', { timeout: 240_000 }, async () => {
  await withServer({ name: 'sdk-room', args: ['--bind', '127.0.0.1', '--udp-port', '0'] }, async (server) => {
    await withBrowser({}, async (browser) => {
      const room = 'sdk-room';
      const names = ['alice', 'bob', 'carol'];
      const pages = {};
      for (const peer of names) {
        pages[peer] = await sdkPage(browser, server);
        const r = await join(pages[peer], { room, peer });
        assert.equal(r.peer, peer, JSON.stringify(r));
      }
      const { alice, bob, carol } = pages;

      // Everyone decodes the two others' camera.
      for (const peer of names) {
        await waitDecoding(pages[peer], names.filter((p) => p !== peer), { label: peer });
      }

      // A fourth page in manual mode: no peer/track events and no media until it subscribes.
      const dave = await sdkPage(browser, server);
      await join(dave, { room, peer: 'dave', peers: 'manual', tracks: 'manual', publish: false });
      await sleep(1500);
      assert.deepEqual(await events(dave), [], 'a manual-mode page saw events before subscribing');
      assert.equal(await packetsIn(dave), 0, 'a manual-mode page received media before subscribing');
      // The others see dave (they are in auto mode).
      await until(() => events(alice, 'peer_joined').then((e) => e.some((x) => x.peer === 'dave')), { timeoutMs: 2000, what: 'alice sees dave' });
      await dave.evaluate(async () => {
        const room = window.t.room;
        const published = new Promise((resolve) => {
          const seen = () => room.tracks.has('alice/camera') && resolve();
          room.on('track_published', seen);
          seen();
        });
        await room.subscribePeer('alice');
        await published;
        await room.subscribe('alice', 'camera');
      });
      const daveEvents = await events(dave);
      assert.ok(daveEvents.every((e) => e.peer === 'alice'), `dave saw more than alice: ${JSON.stringify(daveEvents)}`);
      assert.ok(daveEvents.some((e) => e.event === 'peer_joined'), 'dave did not see alice join after subscribe_peer');
      await waitDecoding(dave, ['alice'], { label: 'dave (manual)' });

      // Meta: peer and track meta reach the others as peer_meta / track_meta and in the room's state.
      await alice.evaluate(async () => {
        await window.t.room.updateMeta({ name: 'Alice' });
        await window.t.room.updateTrackMeta('camera', { muted: false, label: 'front' });
      });
      await until(() => carol.evaluate(() => window.t.room.peers.get('alice')?.meta?.name === 'Alice'
        && window.t.room.tracks.get('alice/camera')?.meta?.label === 'front'), { timeoutMs: 2000, what: 'carol sees alice\'s meta' });
      assert.ok((await events(carol, 'peer_meta')).some((e) => e.peer === 'alice'));
      assert.ok((await events(carol, 'track_meta')).some((e) => e.peer === 'alice' && e.track === 'camera'));

      // Limits: dave pauses alice's camera (receiver_state paused, frames stop), then resumes it.
      await dave.evaluate(() => window.t.room.setLimits('alice', 'camera', { paused: true, maxBitrate: 300_000, priority: 10 }));
      await until(() => events(dave, 'receiver_state').then((e) => e.some((x) => x.state === 'paused')), { timeoutMs: 2000, what: 'dave sees paused' });
      await sleep(500);
      const paused1 = await receiving(dave);
      await sleep(1000);
      const paused2 = await receiving(dave);
      assert.ok(paused2['alice/camera'].packetsReceived - paused1['alice/camera'].packetsReceived < 5,
        `media still flows while paused: ${JSON.stringify([paused1, paused2])}`);
      await dave.evaluate(() => window.t.room.setLimits('alice', 'camera', { paused: false }));
      await waitDecoding(dave, ['alice'], { label: 'dave after unpausing', minFrames: paused2['alice/camera'].framesDecoded + 10 });

      // A direct message reaches only its addressee.
      await carol.evaluate(() => window.t.room.send({ secret: 1 }, 'alice'));
      await until(() => events(alice, 'message').then((e) => e.some((m) => m.from === 'carol' && m.direct && m.data.secret === 1)), { timeoutMs: 2000, what: 'alice gets carol\'s direct message' });
      assert.ok(!(await events(bob, 'message')).some((m) => m.from === 'carol'), 'bob got a message meant for alice');

      // bob's socket drops; the SDK resumes the session on a new socket with the same peer connection.
      const before = await bob.evaluate(() => ({ session: window.t.room.session, pc: window.t.room.pc.connectionState }));
      await bob.evaluate(() => window.t.room.socket.close());
      await until(() => events(bob, 'reconnected').then((e) => e.length > 0), { timeoutMs: 5000, what: 'bob reconnects' });
      const after = await bob.evaluate(() => ({ session: window.t.room.session, peer: window.t.room.peerId, state: window.t.room.state }));
      assert.deepEqual(after, { session: before.session, peer: 'bob', state: 'connected' });
      await waitDecoding(bob, ['alice', 'carol'], { label: 'bob after resume' });
      await waitDecoding(alice, ['bob'], { label: 'alice, bob resumed' });
      // Requests work on the new socket.
      await bob.evaluate(() => window.t.room.send({ text: 'back' }));
      await until(() => events(carol, 'message').then((e) => e.some((m) => m.from === 'bob')), { timeoutMs: 2000, what: 'carol gets bob\'s message' });

      // Unpublish: the others lose the track within 2 s.
      const unpublishedAt = Date.now();
      await carol.evaluate(() => window.t.room.unpublish('camera'));
      for (const p of [alice, bob]) {
        const { ms } = await until(() => events(p, 'track_unpublished').then((e) => e.some((x) => x.peer === 'carol' && x.track === 'camera')),
          { timeoutMs: 2000, what: 'track_unpublished carol/camera' });
        assert.ok(Date.now() - unpublishedAt <= 2000, `track_unpublished after ${ms} ms`);
      }
      assert.equal(await alice.evaluate(() => window.t.room.tracks.has('carol/camera')), false);

      // A page closes without leaving: the others see peer_left after the 30 s grace (not before 25 s).
      const closedAt = Date.now();
      await bob.close();

      // Meanwhile, carol leaves cleanly: the others see peer_left within 1 s.
      const leftAt = Date.now();
      await carol.evaluate(() => window.t.room.leave());
      const { ms: leaveMs } = await until(() => events(alice, 'peer_left').then((e) => e.some((x) => x.peer === 'carol')),
        { timeoutMs: 1000, what: 'alice sees carol leave' });
      console.log(`peer_left after leave(): ${Date.now() - leftAt} ms (poll ${leaveMs} ms)`);

      // Nobody saw bob leave while his socket was down, and he is still here now.
      for (const [who, p] of [['alice', alice], ['carol', carol]]) {
        const seen = await events(p);
        assert.ok(!seen.some((x) => x.peer === 'bob' && ['peer_left', 'track_unpublished'].includes(x.event)),
          `${who} saw bob leave or unpublish: ${JSON.stringify(seen.filter((x) => x.peer === 'bob'))}`);
      }
      const { ms: closeMs } = await until(() => events(alice, 'peer_left').then((e) => e.some((x) => x.peer === 'bob')),
        { timeoutMs: 40_000, intervalMs: 250, what: 'alice sees bob (closed page) leave' });
      const elapsed = Date.now() - closedAt;
      console.log(`peer_left after page.close(): ${elapsed} ms`);
      assert.ok(elapsed <= 36_000, `peer_left ${elapsed} ms after the page closed`);
      assert.ok(closeMs >= 0);
      // No one saw bob leave during his resume, only now.
      const bobLeft = (await events(alice, 'peer_left')).filter((x) => x.peer === 'bob');
      assert.equal(bobLeft.length, 1);
      assert.ok(bobLeft[0].at >= closedAt);
      // dave still decodes alice after all that.
      const s1 = await receiving(dave);
      await sleep(1000);
      const s2 = await receiving(dave);
      assert.ok(s2['alice/camera'].framesDecoded > s1['alice/camera'].framesDecoded, 'dave stopped decoding alice');
    });
  }, { cleanExit: true });
});
