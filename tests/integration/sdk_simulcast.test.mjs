// Simulcast through the room SDK: a page publishes its camera with connect({simulcast: true}) (l/m/h at 1/4, 1/2
// and full of 1280x720); another page subscribes. Unconstrained, the subscriber gets the top layer; once it sets a
// 250 kbit/s limit it gets the low layer (receiver_layer event, frameWidth), and the publisher's SDK, told by the
// server's bitrate_hint that nobody can take more, pauses its upper layers (encodings[i].active = false).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { withBrowser } from './lib/browser.mjs';
import { sdkPage, sleep, until } from './lib/sdk.mjs';
import { twice } from './lib/measure.mjs';
import { withServer } from './lib/server.mjs';

// The subscriber's view of alice/camera: decoded frames and width.
function inbound(page) {
  return page.evaluate(async () => {
    const room = window.t.room;
    const s = [...room.subscriptions.values()].find((x) => x.peer === 'alice' && x.track === 'camera');
    if (!s) return null;
    const tr = room.pc.getTransceivers().find((x) => x.mid === s.mid);
    let out = null;
    (await tr.receiver.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp') out = { framesDecoded: r.framesDecoded ?? 0, frameWidth: r.frameWidth ?? 0 };
    });
    return out;
  });
}

test('SDK simulcast: top layer unconstrained, low layer under a limit, and the publisher pauses what nobody takes', { timeout: 240_000 }, () => twice('sdk_simulcast', async () => {
  await withServer({ name: 'sdk-simulcast', args: ['--bind', '127.0.0.1', '--udp-port', '0', '--log-level', 'debug'] }, async (server) => {
    await withBrowser({}, async (browser) => {
      const alice = await sdkPage(browser, server);
      const bob = await sdkPage(browser, server);
      await alice.evaluate(async () => {
        const t = { events: [] };
        window.t = t;
        const media = await navigator.mediaDevices.getUserMedia({ audio: false, video: { width: 1280, height: 720 } });
        t.room = await window.sdk.connect(location.origin, { room: 'sim', peer: 'alice', simulcast: true });
        t.room.on('bitrate_hint', (e) => t.events.push({ event: 'bitrate_hint', ...e }));
        await t.room.publish(media.getVideoTracks()[0], { name: 'camera' });
      });
      await bob.evaluate(async () => {
        const t = { events: [] };
        window.t = t;
        t.room = await window.sdk.connect(location.origin, { room: 'sim', peer: 'bob' });
        t.room.on('receiver_layer', (e) => t.events.push({ event: 'receiver_layer', at: Date.now(), ...e }));
        const attach = (tr) => tr.peer === 'alice' && t.room.subscribe(tr.peer, tr.track);
        t.room.on('track_published', attach);
        t.room.tracks.forEach(attach);
      });

      const top = await until(async () => ((await inbound(bob))?.frameWidth ?? 0) >= 1280 && inbound(bob),
        { timeoutMs: 40_000, intervalMs: 250, what: 'bob gets the 1280-wide layer' });
      const layers = await bob.evaluate(() => window.t.events.filter((e) => e.event === 'receiver_layer'));
      assert.ok(layers.some((e) => e.spatial === 2), `no receiver_layer event for layer 2: ${JSON.stringify(layers)}`);

      await bob.evaluate(() => window.t.room.setLimits('alice', 'camera', { maxBitrate: 250_000 }));
      const low = await until(async () => {
        const s = await inbound(bob);
        return s && s.frameWidth > 0 && s.frameWidth <= 320 && s;
      }, { timeoutMs: 15_000, intervalMs: 250, what: 'bob gets the 320-wide layer under a 250 kbit/s limit' });
      const later = await bob.evaluate(() => window.t.events.filter((e) => e.event === 'receiver_layer').at(-1));
      assert.equal(later.spatial, 0, `the last receiver_layer event: ${JSON.stringify(later)}`);

      const paused = await until(() => alice.evaluate(() => {
        const sender = window.t.room.pc.getSenders().find((s) => s.track?.kind === 'video');
        const enc = sender.getParameters().encodings;
        return enc.length === 3 && enc[0].active && !enc[1].active && !enc[2].active && enc.map((e) => e.active);
      }), { timeoutMs: 10_000, intervalMs: 250, what: 'alice pauses her m and h layers' });
      const hints = await alice.evaluate(() => window.t.events.filter((e) => e.event === 'bitrate_hint'));
      const frames = (await inbound(bob)).framesDecoded;
      await sleep(1500);
      assert.ok((await inbound(bob)).framesDecoded > frames, 'bob still decodes after the upper layers paused');
      console.log(`sdk_simulcast: ${JSON.stringify({ topLayerMs: top.ms, lowLayerMs: low.ms, pausedMs: paused.ms,
        encodingsActive: paused.value, lastHint: hints.at(-1) })}`);
    });
  });
}));
