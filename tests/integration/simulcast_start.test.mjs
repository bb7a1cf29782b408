// Simulcast that starts at once: a viewer of a simulcast publisher decodes its first frame within 1.5 s of its ICE
// connecting, whenever it joins. For a Chromium and a Firefox publisher (three rids at 1280x720), ten Chromium
// WHEP viewers join one after another:
//  - the first ones while the publisher is still starting (its layers come up one by one);
//  - the middle ones just after the publisher turned its top layer off (setParameters, active: false), then just
//    after it turned it on again.
// The blank starts this guards against: the allocator ordered its rungs by measured bitrate, so a top layer
// measured over a few hundred milliseconds became the cheap first choice, and a layer that had stopped was
// remembered for 5 s; the viewer then waited for key frames of a layer that was not (yet, or any more) flowing.
//
// Each viewer's time is measured in its page: from iceConnectionState 'connected' to the first decoded frame
// (getStats polled every 20 ms). The times, their p50/p99/max and the width of each first frame are printed.
// ATRIUM_SIMULCAST_JOINS (default 10) sets the number of viewers per publisher.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { launchBrowser } from './lib/browser.mjs';
import { launchFirefox } from './lib/firefox.mjs';
import { startServer } from './lib/server.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const JOINS = Number(process.env.ATRIUM_SIMULCAST_JOINS ?? 10);
const LIMIT_MS = 1500;

let server;
let chromium;
let firefox;

test.before(async () => {
  server = await startServer({ name: 'simulcast-start', args: ['--bind', '127.0.0.1', '--udp-port', '0'] });
  chromium = await launchBrowser({});
  firefox = await launchFirefox({});
});

test.after(async () => {
  await firefox?.close();
  await chromium?.close();
  const result = await server?.stop();
  if (result && result.code !== 0) console.error(`atrium exited with ${JSON.stringify(result)}\n${server.tail()}`);
});

async function openWhipPage(browser) {
  const page = await browser.newPage();
  await page.goto(`${server.browserUrl}/web/whip/`);
  await page.waitForFunction(() => window.atrium !== undefined);
  return page;
}

// In the viewer page: a WHEP viewer whose ICE-connected and first-frame times are taken in the page itself.
// Resolves {ttffMs, width} once a frame is decoded, or {ttffMs: null, ...} after 10 s.
function joinViewer(page, room, index) {
  return page.evaluate(async ({ r, i }) => {
    const { exchange } = await import('/web/whip/whip-client.js');
    const pc = new RTCPeerConnection();
    let connectedAt = null;
    const mark = () => {
      if (connectedAt === null && ['connected', 'completed'].includes(pc.iceConnectionState)) connectedAt = performance.now();
    };
    pc.addEventListener('iceconnectionstatechange', mark);
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    const resource = await exchange(pc, `${location.origin}/whep/${encodeURIComponent(r)}`);
    window.viewers = window.viewers ?? {};
    window.viewers[i] = { pc, resource };
    const deadline = performance.now() + 10_000;
    for (;;) {
      let video = null;
      (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') video = s; });
      if (connectedAt !== null && (video?.framesDecoded ?? 0) > 0) {
        return { ttffMs: Math.round(performance.now() - connectedAt), width: video.frameWidth };
      }
      if (performance.now() > deadline) {
        return { ttffMs: null, connected: connectedAt !== null, ice: pc.iceConnectionState, packets: video?.packetsReceived ?? 0, pli: video?.pliCount ?? 0 };
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }, { r: room, i: index });
}

// A viewer is done once measured: DELETE its resource so ten decoders do not pile up on two cores.
function leaveViewer(page, index) {
  return page.evaluate(async (i) => {
    const v = window.viewers[i];
    await fetch(v.resource, { method: 'DELETE' }).catch(() => {});
    v.pc.close();
  }, index);
}

// In the publisher page: turn the top simulcast layer off or on, as an app that saves uplink does.
function setTopLayer(page, active) {
  return page.evaluate(async (on) => {
    const sender = window.pub.pc.getSenders().find((s) => s.track?.kind === 'video');
    const params = sender.getParameters();
    const top = params.encodings.find((e) => e.rid === 'h') ?? params.encodings[params.encodings.length - 1];
    top.active = on;
    await sender.setParameters(params);
  }, active);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

for (const publisherName of ['chromium', 'firefox']) {
  test(`${publisherName} simulcast publisher: ${JOINS} viewers, joining while it starts and while it toggles its top layer, each see a frame within ${LIMIT_MS} ms of ICE connecting`, { timeout: 240_000 }, async () => {
    const room = `start-${publisherName}`;
    const pubPage = await openWhipPage(publisherName === 'chromium' ? chromium : firefox);
    const viewPage = await openWhipPage(chromium);
    const results = [];
    try {
      // Viewer 0 joins while the publisher's offer/answer is still in flight: its layers are not up yet.
      const publishing = pubPage.evaluate(async (r) => {
        window.pub = await window.atrium.publish({ room: r, peer: 'pub', simulcast: true });
      }, room);
      await sleep(300);
      const plan = [];  // what happens before each viewer joins
      for (let i = 0; i < JOINS; ++i) {
        if (i === Math.floor(JOINS * 0.4)) plan.push('top-off');
        else if (i === Math.floor(JOINS * 0.7)) plan.push('top-on');
        else plan.push(i < 3 ? 'starting' : 'steady');
      }
      for (let i = 0; i < JOINS; ++i) {
        if (i === 1) await publishing;
        if (plan[i] === 'top-off') await setTopLayer(pubPage, false);
        if (plan[i] === 'top-on') await setTopLayer(pubPage, true);
        // Join right after the change (100 ms), or ~400 ms after the previous viewer.
        await sleep(plan[i].startsWith('top') ? 100 : 400);
        const r = await joinViewer(viewPage, room, i);
        results.push({ i, phase: plan[i], ...r });
        await leaveViewer(viewPage, i);
      }
      await publishing;
      const times = results.map((r) => r.ttffMs).filter((t) => t !== null).sort((a, b) => a - b);
      const summary = times.length
        ? { p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1] }
        : {};
      console.log(`# simulcast_start ${publisherName}: ${JSON.stringify({ joins: results.length, ...summary })}`);
      console.log(`# simulcast_start ${publisherName}: ${results.map((r) => `${r.i}:${r.phase}:${r.ttffMs ?? 'none'}ms@${r.width ?? '-'}`).join(' ')}`);
      for (const r of results) {
        assert.ok(r.ttffMs !== null, `viewer ${r.i} (${r.phase}) decoded no frame in 10 s: ${JSON.stringify(r)}\n${server.tail(30)}`);
        assert.ok(r.ttffMs <= LIMIT_MS, `viewer ${r.i} (${r.phase}) waited ${r.ttffMs} ms for its first frame: ${JSON.stringify(results)}\n${server.tail(30)}`);
      }
    } finally {
      await pubPage.evaluate(() => window.pub?.stop()).catch(() => {});
      await viewPage.close().catch(() => {});
      await pubPage.close().catch(() => {});
    }
  });
}
