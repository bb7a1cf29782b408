// A real browser publishes with WHIP and another page watches with WHEP, through nothing but atrium. The pages are
// atrium's own example (web/whip), served by atrium itself, so this is what a person gets from `atrium run`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { withBrowser } from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';
import { metric } from './lib/measure.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));


async function openPage(browser, server) {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log(`[page] ${m.text()}`); });
  await page.goto(`${server.browserUrl}/web/whip/`);
  await page.waitForFunction(() => window.atrium !== undefined);
  return page;
}

const outboundVideo = (page) => page.evaluate(async () => {
  const stats = await window.pub.pc.getStats();
  let out = null;
  stats.forEach((r) => { if (r.type === 'outbound-rtp' && r.kind === 'video') out = { frameWidth: r.frameWidth, frameHeight: r.frameHeight }; });
  return out;
});
const viewerStats = (page) => page.evaluate(() => window.atrium.inboundStats(window.view.pc));
const viewerCodec = (page) => page.evaluate(async () => {
  const stats = await window.view.pc.getStats();
  const codecs = {};
  stats.forEach((r) => { if (r.type === 'codec') codecs[r.id] = r.mimeType; });
  let mime = null;
  stats.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') mime = codecs[r.codecId]; });
  return mime;
});

async function publishAndWatch(codec) {
  const server = await startServer({ name: `whip-whep-${codec}`, args: ['--bind', '127.0.0.1', '--udp-port', '0'] });
  try {
    await withBrowser({}, async (browser) => {
      const a = await openPage(browser, server);
      const b = await openPage(browser, server);
      await a.evaluate(async (c) => { window.pub = await window.atrium.publish({ room: 'lobby', peer: 'alice', codec: c }); }, codec);
      await b.evaluate(async () => { window.view = await window.atrium.watch({ room: 'lobby' }); });

      // Within 15 s: >= 60 frames decoded and still rising, the publisher's frame width, audio flowing.
      const deadline = Date.now() + 15_000;
      let s;
      for (;;) {
        s = await viewerStats(b);
        if ((s.video?.framesDecoded ?? 0) >= 60 && (s.audio?.packetsReceived ?? 0) > 100) break;
        assert.ok(Date.now() < deadline, `viewer stats after 15 s: ${JSON.stringify(s)}\n${server.tail()}`);
        await sleep(250);
      }
      await sleep(1000);
      const later = await viewerStats(b);
      assert.ok(later.video.framesDecoded > s.video.framesDecoded, `frames stopped: ${JSON.stringify([s, later])}`);
      const sent = await outboundVideo(a);
      assert.equal(later.video.frameWidth, sent.frameWidth, `viewer ${JSON.stringify(later.video)} vs sender ${JSON.stringify(sent)}`);
      assert.equal((await viewerCodec(b))?.toLowerCase(), `video/${codec.toLowerCase()}`);
      assert.equal(await metric(server, 'atrium_webrtc_sessions'), 2);
      assert.ok(await metric(server, 'atrium_rtp_packets_sent_total') > 100);
      // The viewer's time from its media connect to its first video packet: one observation (the publisher sends
      // nothing to its client, so none for it).
      assert.equal(await metric(server, 'atrium_viewer_first_video_seconds_count'), 1);

      // The publisher leaves: its session is gone and the viewer's media stops.
      await a.evaluate(async () => { await window.pub.stop(); });
      await sleep(1000);
      assert.equal(await metric(server, 'atrium_webrtc_sessions'), 1);
      const stopped = await viewerStats(b);
      await sleep(1500);
      const still = await viewerStats(b);
      assert.equal(still.video.packetsReceived, stopped.video.packetsReceived, 'video still arrives after DELETE');
      assert.equal(still.audio.packetsReceived, stopped.audio.packetsReceived, 'audio still arrives after DELETE');

      // The viewer follows the next publisher in the room without doing anything.
      await a.evaluate(async (c) => { window.pub = await window.atrium.publish({ room: 'lobby', peer: 'bob', codec: c }); }, codec);
      const resumeDeadline = Date.now() + 10_000;
      for (;;) {
        const r = await viewerStats(b);
        if (r.video.framesDecoded >= still.video.framesDecoded + 30) break;
        assert.ok(Date.now() < resumeDeadline, `viewer did not follow the next publisher: ${JSON.stringify(r)}`);
        await sleep(250);
      }
      await b.evaluate(async () => { await window.view.stop(); });
      await a.evaluate(async () => { await window.pub.stop(); });
      await sleep(300);
      assert.equal(await metric(server, 'atrium_webrtc_sessions'), 0);
    });
  } finally {
    const result = await server.stop();
    assert.equal(result.code, 0, `atrium exited with ${JSON.stringify(result)}\n${server.tail()}`);
  }
}

test('chromium publishes VP8 with WHIP and another chromium page watches it with WHEP', () => publishAndWatch('VP8'));
test('chromium publishes H264 with WHIP and another chromium page watches it with WHEP', () => publishAndWatch('H264'));
