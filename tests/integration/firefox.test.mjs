// Firefox ESR (Debian's firefox-esr, driven over WebDriver BiDi by puppeteer-core) as a publisher and as a viewer,
// against Chromium and against itself, with atrium's own example pages (web/whip, served by atrium) and the SDK:
//  - WHIP from Firefox -> WHEP in Chromium; WHIP from Chromium -> WHEP in Firefox; Firefox -> Firefox;
//  - the SDK room with a Firefox page and a Chromium page, each decoding the other;
//  - Firefox simulcast (three rids at 1280x720) watched by Chromium.
// Each viewer must decode >= 60 frames, still rising, and receive > 100 audio packets.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { launchBrowser } from './lib/browser.mjs';
import { launchFirefox } from './lib/firefox.mjs';
import { join, receiving, sdkPage, waitDecoding } from './lib/sdk.mjs';
import { startServer } from './lib/server.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function openWhipPage(browser, server) {
  const page = await browser.newPage();
  await page.goto(`${server.browserUrl}/web/whip/`);
  await page.waitForFunction(() => window.atrium !== undefined);
  return page;
}

const viewerStats = (page) => page.evaluate(() => window.atrium.inboundStats(window.view.pc));
const senderStats = (page) => page.evaluate(() => window.atrium.outboundStats(window.pub.pc));

// Waits until the viewer decodes >= 60 frames and got > 100 audio packets, then checks frames still rise.
async function assertWatching(page, what, server, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let s;
  for (;;) {
    s = await viewerStats(page);
    if ((s.video?.framesDecoded ?? 0) >= 60 && (s.audio?.packetsReceived ?? 0) > 100) break;
    assert.ok(Date.now() < deadline, `${what}: viewer stats after ${timeoutMs} ms: ${JSON.stringify(s)}\n${server.tail(30)}`);
    await sleep(250);
  }
  await sleep(1000);
  const later = await viewerStats(page);
  assert.ok(later.video.framesDecoded > s.video.framesDecoded, `${what}: frames stopped: ${JSON.stringify([s, later])}`);
  return later;
}

// One server, one Chromium, one Firefox for the whole file: starting Firefox costs seconds.
let server;
let chromium;
let firefox;
const browsers = () => ({ chromium, firefox });

test.before(async () => {
  server = await startServer({ name: 'firefox', args: ['--bind', '127.0.0.1', '--udp-port', '0'] });
  chromium = await launchBrowser({});
  chromium.name = 'chromium';
  firefox = await launchFirefox({});
});

test.after(async () => {
  const lines = [...(firefox?.consoleLines ?? []), ...(chromium?.consoleLines ?? [])];
  await firefox?.close();
  await chromium?.close();
  const result = await server?.stop();
  if (result && result.code !== 0) console.error(`atrium exited with ${JSON.stringify(result)}\n${server.tail()}`);
  if (process.exitCode) console.error(`--- browser console, last lines ---\n${lines.slice(-40).join('\n')}`);
});

for (const [from, to] of [['firefox', 'chromium'], ['chromium', 'firefox'], ['firefox', 'firefox']]) {
  test(`${from} publishes with WHIP and ${to} watches with WHEP`, { timeout: 90_000 }, async () => {
    const room = `ff-${from}-${to}`;
    const t0 = Date.now();
    const pub = await openWhipPage(browsers()[from], server);
    const view = await openWhipPage(browsers()[to], server);
    try {
      await pub.evaluate(async (r) => { window.pub = await window.atrium.publish({ room: r, peer: 'alice' }); }, room);
      await view.evaluate(async (r) => { window.view = await window.atrium.watch({ room: r }); }, room);
      const s = await assertWatching(view, `${from} -> ${to}`, server);
      console.log(`# ${from} -> ${to}: ${s.video.framesDecoded} frames at ${s.video.frameWidth}x${s.video.frameHeight}, ` +
        `${s.audio.packetsReceived} audio packets, ${Date.now() - t0} ms`);
    } finally {
      await view.evaluate(() => window.view?.stop()).catch(() => {});
      await pub.evaluate(() => window.pub?.stop()).catch(() => {});
      await view.close().catch(() => {});
      await pub.close().catch(() => {});
    }
  });
}

test('the SDK room with a firefox page and a chromium page, each decoding the other', { timeout: 90_000 }, async () => {
  const room = 'ff-sdk';
  const a = await sdkPage(firefox, server);
  const b = await sdkPage(chromium, server);
  try {
    await join(a, { room, peer: 'fox' });
    await join(b, { room, peer: 'chrome' });
    await waitDecoding(b, ['fox'], { minFrames: 60, label: 'chromium' });
    await waitDecoding(a, ['chrome'], { minFrames: 60, label: 'firefox' });
    // And the other's microphone.
    const deadline = Date.now() + 10_000;
    let seen;
    for (;;) {
      seen = { chromium: await receiving(b), firefox: await receiving(a) };
      const audio = (r, peer) => Object.entries(r).find(([k]) => k.startsWith(`${peer}/`) && k !== `${peer}/camera`)?.[1]?.packetsReceived ?? 0;
      if (audio(seen.chromium, 'fox') > 100 && audio(seen.firefox, 'chrome') > 100) break;
      assert.ok(Date.now() < deadline, `audio packets: ${JSON.stringify(seen)}`);
      await sleep(250);
    }
    console.log(`# sdk: ${JSON.stringify(seen)}`);
  } finally {
    for (const p of [a, b]) {
      await p.evaluate(() => window.t?.room?.leave()).catch(() => {});
      await p.close().catch(() => {});
    }
  }
});

test('firefox publishes simulcast (three rids at 1280x720) and chromium watches the top layer', { timeout: 90_000 }, async () => {
  const room = 'ff-simulcast';
  const pub = await openWhipPage(firefox, server);
  const view = await openWhipPage(chromium, server);
  try {
    await pub.evaluate(async (r) => { window.pub = await window.atrium.publish({ room: r, peer: 'fox', simulcast: true }); }, room);
    // Firefox sends every rid it was given.
    const deadline = Date.now() + 15_000;
    let layers;
    for (;;) {
      layers = await senderStats(pub);
      if (Object.values(layers).filter((l) => l.framesEncoded > 0).length >= 3) break;
      assert.ok(Date.now() < deadline, `firefox encodes fewer than 3 layers: ${JSON.stringify(layers)}`);
      await sleep(250);
    }
    await view.evaluate(async (r) => { window.view = await window.atrium.watch({ room: r }); }, room);
    const s = await assertWatching(view, 'firefox simulcast -> chromium', server);
    // With no cap, the viewer climbs to the top layer.
    const start = Date.now();
    const trail = [];
    let top;
    for (;;) {
      top = await viewerStats(view);
      const sent = await senderStats(pub);
      trail.push(`${Date.now() - start}ms ${top.video.frameWidth} [${Object.entries(sent).map(([rid, l]) => `${rid}:${l.frameWidth}/${l.bytesSent}`).join(' ')}]`);
      if (top.video.frameWidth >= 1280) break;
      assert.ok(Date.now() - start < 20_000, `the viewer never got the top layer in 20 s:\n${trail.slice(-40).join('\n')}\n${server.tail(20)}`);
      await sleep(500);
    }
    console.log(`# firefox simulcast -> chromium: top layer after ${Date.now() - start} ms`);
    console.log(`# firefox simulcast -> chromium: ${s.video.framesDecoded} frames at ${s.video.frameWidth}x${s.video.frameHeight}; ` +
      `layers sent ${JSON.stringify(Object.fromEntries(Object.entries(layers).map(([rid, l]) => [rid, l.frameWidth])))}`);
  } finally {
    await view.evaluate(() => window.view?.stop()).catch(() => {});
    await pub.evaluate(() => window.pub?.stop()).catch(() => {});
    await view.close().catch(() => {});
    await pub.close().catch(() => {});
  }
});
