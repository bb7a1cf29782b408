// RTMP ingest (docs/rtmp.md), with Debian's ffmpeg as the publisher and Chromium as the viewer:
//  - ffmpeg -> Chromium WHEP: 1280x720 H264 passes through and decodes; the AAC 1 kHz sine arrives as Opus that a
//    WebAudio analyser in the page hears at 1 kHz (decode, resample and encode right, not just packets);
//  - the demo room shows the RTMP peer as a tile with video, and drops it within 2 s of ffmpeg being killed;
//  - refusals: B-frames (the documented sentence reaches ffmpeg), a taken peer id, and with --auth-secret a bad
//    stream key (NetConnection.Connect.Rejected) while `atrium token --rtmp`'s URL publishes;
//  - bad input from a raw client (random bytes, truncated handshake, chunk sizes 0 and 2^31, a 16 MiB message,
//    unknown AMF types, deep AMF nesting, publish before connect, a broken AVC config, a 96 kHz 7.1 AAC config,
//    500 half-open connections), after which ffmpeg -> Chromium still works.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { launchBrowser } from './lib/browser.mjs';
import { scrapeMetrics } from './lib/measure.mjs';
import { Nats } from './lib/nats.mjs';
import { RawRtmp, amf0, sleep, startFfmpeg } from './lib/rtmp.mjs';
import { freePort, runAtrium, startServer } from './lib/server.mjs';

let chromium;
test.before(async () => { chromium = await launchBrowser({}); });
test.after(async () => { await chromium?.close(); });

async function rtmpServer(name, extra = [], options = {}) {
  const port = await freePort();
  const server = await startServer({ ...options, name, args: ['--bind', '127.0.0.1', '--udp-port', '0', '--rtmp', `127.0.0.1:${port}`, ...extra] });
  server.rtmpPort = port;
  server.rtmpUrl = (room, peer) => `rtmp://127.0.0.1:${port}/live/${room}/${peer}`;
  return server;
}

async function openWhipPage(server) {
  const page = await chromium.newPage();
  await page.goto(`${server.browserUrl}/web/whip/`);
  await page.waitForFunction(() => window.atrium !== undefined);
  return page;
}

// Starts a WHEP viewer of `source` in `room` (retrying while the RTMP peer is not there yet) and an analyser on
// its audio.
async function watch(page, room, source) {
  await page.evaluate(async ({ room, source }) => {
    window.view = await window.atrium.watch({ room, source });
    const stream = window.view.stream;
    // Chromium feeds a remote track to WebAudio only while a media element plays it.
    const el = document.createElement('audio');
    el.muted = true;
    el.srcObject = stream;
    document.body.append(el);
    el.play().catch(() => {});
    window.listen = async () => {
      const track = stream.getAudioTracks()[0];
      if (!track) return { error: 'no audio track' };
      if (!window.analyser) {
        const ctx = new AudioContext();
        await ctx.resume();
        const an = ctx.createAnalyser();
        an.fftSize = 8192;
        ctx.createMediaStreamSource(new MediaStream([track])).connect(an);
        window.analyser = { ctx, an };
      }
      const { ctx, an } = window.analyser;
      const t = new Float32Array(an.fftSize);
      an.getFloatTimeDomainData(t);
      const rms = Math.sqrt(t.reduce((s, x) => s + x * x, 0) / t.length);
      const f = new Float32Array(an.frequencyBinCount);
      an.getFloatFrequencyData(f);
      let peak = 0;
      for (let i = 1; i < f.length; i++) if (f[i] > f[peak]) peak = i;
      return { rms, peakHz: (peak * ctx.sampleRate) / an.fftSize, state: ctx.state };
    };
  }, { room, source });
}

async function until(what, fn, timeoutMs, server) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    assert.ok(Date.now() < deadline, `${what}: not within ${timeoutMs} ms\n${server?.tail(20) ?? ''}`);
    await sleep(200);
  }
}

// One labelled sample of /metrics, as written there (0 when absent).
async function labelled(server, series) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const stats = (page) => page.evaluate(() => window.atrium.inboundStats(window.view.pc));

// ffmpeg -> WHEP in Chromium: frames at 1280, audio packets, and the tone. Returns what it measured.
async function assertPlays(server, room, peer, { timeoutMs = 30_000 } = {}) {
  const page = await openWhipPage(server);
  try {
    const t0 = Date.now();
    await watch(page, room, peer);
    let s;
    let heard;
    for (;;) {
      s = await stats(page);
      if ((s.video?.framesDecoded ?? 0) >= 60 && (s.audio?.packetsReceived ?? 0) > 100) {
        heard = await page.evaluate(() => window.listen());
        if (heard.rms > 0.01 && Math.abs(heard.peakHz - 1000) <= 50 && s.video.frameWidth === 1280) break;
      }
      assert.ok(Date.now() - t0 < timeoutMs,
        `after ${timeoutMs} ms: ${JSON.stringify({ s, heard })}\n${server.tail(30)}`);
      await sleep(300);
    }
    await sleep(1000);
    const later = await stats(page);
    assert.ok(later.video.framesDecoded > s.video.framesDecoded, `frames stopped: ${JSON.stringify([s, later])}`);
    return { frames: later.video.framesDecoded, width: later.video.frameWidth, height: later.video.frameHeight,
      audioPackets: later.audio.packetsReceived, rms: Number(heard.rms.toFixed(3)), peakHz: Math.round(heard.peakHz),
      ms: Date.now() - t0 };
  } finally {
    await page.evaluate(() => window.view?.stop()).catch(() => {});
    await page.close().catch(() => {});
  }
}

// The WHEP offer fails with 404-ish errors until the RTMP peer has published: ffmpeg needs a moment to connect.
async function waitPublishing(server, n = 1, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await scrapeMetrics(server);
    if ((m.atrium_rtmp_sessions ?? 0) >= n && (m.atrium_tracks ?? 0) >= 2 * n) return;
    assert.ok(Date.now() < deadline, `not publishing after ${timeoutMs} ms: ${JSON.stringify(m)}\n${server.tail(20)}`);
    await sleep(200);
  }
}

test('ffmpeg publishes over RTMP and a Chromium WHEP viewer decodes 1280x720 and hears the 1 kHz tone', { timeout: 120_000 }, async () => {
  const server = await rtmpServer('rtmp-basic');
  const ff = startFfmpeg(server.rtmpUrl('rtmp1', 'obs'));
  try {
    await waitPublishing(server);
    const r = await assertPlays(server, 'rtmp1', 'obs');
    console.log(`# ffmpeg -> chromium: ${JSON.stringify(r)}`);
    const m = await scrapeMetrics(server);
    assert.ok(m['atrium_rtmp_audio_transcoded_total'] > 100, JSON.stringify(m));
  } catch (e) {
    console.log(`# ffmpeg stderr:\n${ff.stderr().slice(-3000)}`);
    throw e;
  } finally {
    await ff.stop();
    await server.stop();
  }
});

test('the demo room shows the RTMP peer as a video tile, and it leaves within 2 s of ffmpeg being killed', { timeout: 120_000 }, async () => {
  const server = await rtmpServer('rtmp-demo');
  const ff = startFfmpeg(server.rtmpUrl('rtmpdemo', 'streamer'));
  const page = await chromium.newPage();
  try {
    await waitPublishing(server);
    await page.goto(`${server.browserUrl}/`);
    await page.fill('#room', 'rtmpdemo');
    await page.fill('#name', 'Viewer');
    await page.click('#join-button');
    await page.waitForFunction(() => window.demo?.room?.state === 'connected', null, { timeout: 15_000 });
    const tile = () => page.evaluate(() => {
      for (const t of document.querySelectorAll('#tiles .tile')) {
        if (!t.textContent.includes('streamer')) continue;
        const v = t.querySelector('video');
        return { width: v?.videoWidth ?? 0, playing: v ? v.currentTime : 0 };
      }
      return null;
    });
    const deadline = Date.now() + 20_000;
    let seen;
    for (;;) {
      seen = await tile();
      if (seen && seen.width === 1280 && seen.playing > 0.5) break;
      assert.ok(Date.now() < deadline, `no playing tile for the RTMP peer: ${JSON.stringify(seen)}\n${server.tail(20)}`);
      await sleep(250);
    }
    const killed = Date.now();
    ff.proc.kill('SIGKILL');
    for (;;) {
      const gone = await page.evaluate(() => !window.demo.room.peers.has('streamer'));
      if (gone) break;
      assert.ok(Date.now() - killed < 2000, `the RTMP peer was still in the room 2 s after ffmpeg died\n${server.tail(20)}`);
      await sleep(50);
    }
    console.log(`# demo room: tile ${JSON.stringify(seen)}; peer left ${Date.now() - killed} ms after ffmpeg was killed`);
  } finally {
    await page.close().catch(() => {});
    await ff.stop();
    await server.stop();
  }
});

test('refusals: B-frames, a taken peer id', { timeout: 90_000 }, async () => {
  const server = await rtmpServer('rtmp-refusals');
  try {
    const bf = startFfmpeg(server.rtmpUrl('rtmpref', 'bframes'), { bframes: true, seconds: 10 });
    const ended = await Promise.race([bf.exited, sleep(20_000).then(() => null)]);
    await bf.stop();
    assert.ok(ended, 'ffmpeg kept publishing a B-frame stream');
    assert.match(bf.stderr(), /B-frames are not supported/, bf.stderr().slice(-2000));
    assert.match(server.tail(50), /B-frames are not supported/);

    const first = startFfmpeg(server.rtmpUrl('rtmpref', 'same'));
    try {
      await waitPublishing(server);
      const second = startFfmpeg(server.rtmpUrl('rtmpref', 'same'), { seconds: 10 });
      const e2 = await Promise.race([second.exited, sleep(15_000).then(() => null)]);
      await second.stop();
      assert.ok(e2, 'a second publisher with the same peer id was not refused');
      assert.match(second.stderr(), /PEER_ID_TAKEN/, second.stderr().slice(-2000));
    } finally {
      await first.stop();
    }
    const text = await (await fetch(`${server.url}/metrics`)).text();
    console.log(`# refusals: ${text.split('\n').filter((l) => l.startsWith('atrium_rtmp_refused_total{')).join(', ')}`);
  } finally {
    await server.stop();
  }
});

test('with --auth-secret: a bad stream key is refused, the URL from `atrium token --rtmp` publishes', { timeout: 90_000 }, async () => {
  const secret = 'rtmp-test-secret';
  const server = await rtmpServer('rtmp-auth', ['--auth-secret', secret]);
  try {
    const bad = startFfmpeg(server.rtmpUrl('rtmpauth', 'eyJhbGciOiJIUzI1NiJ9.eyJyb29tIjoieCJ9.bm9wZQ'), { seconds: 10 });
    const e1 = await Promise.race([bad.exited, sleep(15_000).then(() => null)]);
    await bad.stop();
    assert.ok(e1, 'a bad token was not refused');
    assert.match(bad.stderr(), /TOKEN|token/, bad.stderr().slice(-2000));
    const nokey = startFfmpeg(server.rtmpUrl('rtmpauth', 'someone'), { seconds: 10 });
    const e2 = await Promise.race([nokey.exited, sleep(15_000).then(() => null)]);
    await nokey.stop();
    assert.ok(e2, 'a stream key without a token was not refused');

    const printed = await runAtrium(['token', '--secret', secret, '--room', 'rtmpauth', '--peer', 'cam', '--publish',
      '--rtmp', '--rtmp-host', `127.0.0.1:${server.rtmpPort}`]);
    const url = printed.stdout.trim();
    assert.match(url, new RegExp(`^rtmp://127\\.0\\.0\\.1:${server.rtmpPort}/live/rtmpauth/ey`));
    const good = startFfmpeg(url);
    try {
      await waitPublishing(server);
      const auth = await labelled(server, 'atrium_rtmp_refused_total{reason="auth"}');
      assert.ok(auth >= 2, `refusals for auth: ${auth}`);
    } finally {
      await good.stop();
    }
  } finally {
    await server.stop();
  }
});

test('bad RTMP input is refused or dropped, and ffmpeg -> Chromium works after it', { timeout: 150_000 }, async () => {
  const server = await rtmpServer('rtmp-bad-input', ['--rtmp-max-pending', '64', '--rtmp-max-pending-per-address', '32']);
  const port = server.rtmpPort;
  const outcomes = {};
  const attempt = async (name, fn) => {
    const c = await RawRtmp.connect(port);
    try {
      await fn(c);
      await Promise.race([c.closed, sleep(3000)]);
      outcomes[name] = c.isClosed() ? 'closed' : 'open';
      if (c.text().includes('connect first')) outcomes[name] += ', _error "connect first"';
    } finally {
      c.close();
    }
  };
  const afterHandshake = (fn) => async (c) => { await c.handshake(); await fn(c); };
  const publishing = (fn) => afterHandshake(async (c) => { await c.publish('live', 'rtmpbad/raw'); await fn(c); });
  try {
    await attempt('random bytes', async (c) => { c.write(Buffer.from(Array.from({ length: 8192 }, () => Math.floor(Math.random() * 256)))); });
    await attempt('truncated handshake', async (c) => { c.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(700)])); });
    await attempt('chunk size 0', afterHandshake(async (c) => { c.setChunkSize(0); c.command('connect', 1, { app: 'live' }); }));
    await attempt('chunk size 2^31', afterHandshake(async (c) => { c.setChunkSize(0x80000000); c.command('connect', 1, { app: 'live' }); }));
    await attempt('16 MiB message', afterHandshake(async (c) => { c.message(3, 20, 0, Buffer.alloc(4096), { declaredLength: 0xffffff }); }));
    await attempt('unknown AMF types', afterHandshake(async (c) => {
      c.message(3, 20, 0, Buffer.concat([amf0('connect', 1), Buffer.from([0x0d, 0x0e, 0x0f, 0x20, 0x7f])]));
    }));
    await attempt('deep AMF nesting', afterHandshake(async (c) => {
      const open = Buffer.concat(Array.from({ length: 5000 }, () => Buffer.from([0x03, 0x00, 0x01, 0x61])));
      c.message(3, 20, 0, Buffer.concat([amf0('connect', 1), open]));
    }));
    await attempt('publish before connect', afterHandshake(async (c) => { c.streamCommand('publish', 3, null, 'rtmpbad/early', 'live'); }));
    await attempt('broken AVC config', publishing(async (c) => {
      c.video(Buffer.from([0x17, 0x00, 0, 0, 0, 0x01, 0x42, 0xff, 0xe1, 0x00, 0x40])); // SPS length past the end
      c.video(Buffer.from([0x17, 0x01, 0, 0, 0, 0, 0, 0, 9, 0x65, 1, 2, 3]));
    }));
    await attempt('AAC 96 kHz 7.1', publishing(async (c) => {
      c.audio(Buffer.from([0xaf, 0x00, 0x10, 0x38])); // AAC-LC, index 0 (96 kHz), channel configuration 7
      c.audio(Buffer.from([0xaf, 0x01, 0x21, 0x00, 0x49, 0x90, 0x02, 0x19]), 23);
    }));
    // 500 connections that send half a handshake and wait.
    const half = [];
    for (let i = 0; i < 500; i++) {
      const c = await RawRtmp.connect(port).catch(() => null);
      if (!c) continue;
      c.write(Buffer.from([3, 1, 2, 3]));
      half.push(c);
    }
    await sleep(1000);
    outcomes['500 half-open'] = `${half.filter((c) => c.isClosed()).length} of ${half.length} closed by the server at once`;
    assert.ok(half.filter((c) => c.isClosed()).length >= 500 - 64, JSON.stringify(outcomes));
    half.forEach((c) => c.close());
    console.log(`# bad input: ${JSON.stringify(outcomes)}`);
    for (const name of ['random bytes', 'chunk size 0', 'chunk size 2^31', '16 MiB message', 'deep AMF nesting'])
      assert.equal(outcomes[name], 'closed', `${name}: ${JSON.stringify(outcomes)}`);
    assert.match(outcomes['publish before connect'], /connect first/, JSON.stringify(outcomes));

    await sleep(500);
    assert.equal(server.proc.exitCode, null, 'the server died');
    const ff = startFfmpeg(server.rtmpUrl('rtmpbad', 'after'));
    try {
      await waitPublishing(server);
      const r = await assertPlays(server, 'rtmpbad', 'after');
      console.log(`# after the bad input: ${JSON.stringify(r)}`);
    } finally {
      await ff.stop();
    }
    const text = await (await fetch(`${server.url}/metrics`)).text();
    console.log(`# refusals: ${text.split('\n').filter((l) => l.startsWith('atrium_rtmp_refused_total{')).join(', ')}`);
  } finally {
    await server.stop();
  }
});

test('cluster: RTMP into node 1, a Chromium WHEP viewer on node 2 decodes it and hears the tone', { timeout: 120_000 }, async () => {
  const nats = new Nats(await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-nats-')));
  await nats.start();
  const cluster = (id) => ['--cluster', nats.url, '--node-id', id];
  let node1;
  let node2;
  let ff;
  try {
    node1 = await rtmpServer('rtmp-cluster-n1', cluster('n1'), { workers: 1 });
    node2 = await rtmpServer('rtmp-cluster-n2', cluster('n2'), { workers: 1 });
    ff = startFfmpeg(node1.rtmpUrl('rtmpcluster', 'far'));
    await waitPublishing(node1);
    const r = await assertPlays(node2, 'rtmpcluster', 'far', { timeoutMs: 40_000 });
    console.log(`# cluster: ${JSON.stringify(r)}`);
  } finally {
    await ff?.stop();
    await node2?.stop();
    await node1?.stop();
    await nats.stop();
    fs.rmSync(nats.dir, { recursive: true, force: true });
  }
});
