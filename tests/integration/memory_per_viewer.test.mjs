// What a client costs the server in memory: the growth of the real atrium process's RSS (/proc/PID/status VmRSS)
// per WHEP viewer of a 2.5 Mbit/s stream (bench's atrium-load: 1 publisher + 50 WHEP subscribers) and per SDK
// client that joined a room and watches nothing (50 connect() calls in one Chromium page). Each kind gets a fresh
// server with 1 worker. The result lines ("memory: ...") are the point; the goals of the issue are asserted as
// loose upper bounds, settable for a run by hand: ATRIUM_MEM_VIEWER_KB (default 500) and ATRIUM_MEM_SDK_KB
// (default 300). ctest label: memory (`ctest -L memory --output-on-failure`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { withBrowser } from './lib/browser.mjs';
import { scrapeMetrics } from './lib/measure.mjs';
import { sdkPage, sleep, until } from './lib/sdk.mjs';
import { atriumBin, logDir, withServer } from './lib/server.mjs';

const VIEWERS = 50;
const SDK_CLIENTS = 50;
const VIDEO_KBPS = 2500;
const VIDEO_PPS = 250;
const VIEWER_KB_GOAL = Number(process.env.ATRIUM_MEM_VIEWER_KB ?? 500);
const SDK_KB_GOAL = Number(process.env.ATRIUM_MEM_SDK_KB ?? 300);

// No per-address caps in the way: every client comes from 127.0.0.1.
const SERVER_ARGS = ['--bind', '127.0.0.1', '--udp-port', '0', '--max-connections-per-address', '4096',
  '--max-pending-per-address', '1000', '--max-pending-sessions', '1000'];

function loadBin() {
  const bin = process.env.ATRIUM_LOAD_BIN
    ?? path.join(process.env.ATRIUM_BUILD_DIR ?? path.dirname(path.dirname(path.dirname(atriumBin()))), 'bench/load/atrium-load');
  if (!fs.existsSync(bin)) throw new Error(`atrium-load not found at ${bin}; build the atrium-load target (or set ATRIUM_LOAD_BIN)`);
  return bin;
}

/** Throws unless `pid` is the atrium binary itself (not a shell or wrapper around it). */
function assertIsAtrium(pid) {
  const exe = fs.readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  assert.equal(exe, fs.realpathSync(atriumBin()), `pid ${pid} is ${exe}, not atrium: its RSS would not be the server's`);
}

/** VmRSS of `pid` in kB. */
function rssKb(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB$/m);
  assert.ok(m, `no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

const mb = (kb) => (kb / 1024).toFixed(1);

/** The largest VmRSS of `pid` seen over `ms`, sampled every 100 ms. */
async function maxRssOver(pid, ms) {
  let max = rssKb(pid);
  for (const end = Date.now() + ms; Date.now() < end;) {
    await sleep(100);
    max = Math.max(max, rssKb(pid));
  }
  return max;
}

/**
 * Runs atrium-load (1 publisher, `n` WHEP subscribers) against `server` while sampling atrium's RSS and its
 * /metrics every 250 ms. Resolves with the tool's JSON result, the largest RSS seen and the metric samples.
 */
async function runLoad(server, { n, room, duration, warmup }) {
  const out = path.join(logDir(), `memory-load-${process.pid}-${room}.json`);
  fs.rmSync(out, { force: true });
  const args = ['--server', 'atrium', '--url', server.url, '--bind', '127.0.0.1', '--room', room, '-n', String(n),
    '--duration', String(duration), '--warmup', String(warmup), '--video-kbps', String(VIDEO_KBPS),
    '--video-pps', String(VIDEO_PPS), '--server-pid', String(server.proc.pid), '--quiet', '--out', out];
  const proc = spawn(loadBin(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const done = new Promise((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
  const killer = setTimeout(() => proc.kill('SIGKILL'), 60_000 + 1000 * (duration + warmup));
  let maxRss = rssKb(server.proc.pid);
  const samples = [];
  let exit = null;
  try {
    while (!exit) {
      exit = await Promise.race([done, sleep(250).then(() => null)]);
      maxRss = Math.max(maxRss, rssKb(server.proc.pid));
      samples.push({ at: Date.now(), ...(await scrapeMetrics(server)) });
    }
  } finally {
    clearTimeout(killer);
    proc.kill('SIGKILL');
  }
  assert.equal(exit.code, 0, `atrium-load -n ${n} failed (${JSON.stringify(exit)}):\n${stderr}`);
  return { result: JSON.parse(fs.readFileSync(out, 'utf8')), maxRss, samples, stderr };
}

/** The highest rate of `name` (per second) over any stretch of at least `spanMs` between two samples. */
function peakRate(samples, name, spanMs) {
  let best = 0;
  for (let i = 0; i < samples.length; i++) {
    const j = samples.findIndex((s) => s.at - samples[i].at >= spanMs);
    if (j < 0) break;
    best = Math.max(best, ((samples[j][name] ?? 0) - (samples[i][name] ?? 0)) / ((samples[j].at - samples[i].at) / 1000));
  }
  return best;
}

test(`memory per WHEP viewer of a ${VIDEO_KBPS} kbit/s stream (${VIEWERS} viewers)`, { timeout: 180_000 }, async () => {
  await withServer({ name: 'memory-whep', workers: 1, args: SERVER_ARGS }, async (server) => {
    assertIsAtrium(server.proc.pid);
    const idle = rssKb(server.proc.pid);

    // The publisher alone, streaming: the baseline.
    console.log('memory: publisher alone ...');
    const alone = await runLoad(server, { n: 0, room: 'mem-alone', duration: 3, warmup: 0.5 });
    assert.ok(alone.result.published_packets > 0, `the publisher sent nothing: ${JSON.stringify(alone.result)}`);
    const before = alone.maxRss;

    // The same with 50 viewers. The window is long enough for each viewer's resend cache to fill (300 pkt/s).
    console.log(`memory: publisher + ${VIEWERS} WHEP viewers ...`);
    const m0 = await scrapeMetrics(server);
    const load = await runLoad(server, { n: VIEWERS, room: 'mem-viewers', duration: 6, warmup: 1 });
    const m1 = await scrapeMetrics(server);
    const r = load.result;
    const after = load.maxRss;

    // They really watched: every viewer received (nearly) everything published in the window, at ~2.5 Mbit/s.
    assert.equal(r.subscribers, VIEWERS, JSON.stringify(r));
    assert.ok(r.min_window_received_per_subscriber > 0, `a viewer received nothing in the window: ${JSON.stringify(r)}`);
    assert.ok(r.min_window_received_per_subscriber >= 0.8 * r.published_packets,
      `a viewer got ${r.min_window_received_per_subscriber} of ${r.published_packets} packets in the window: ${JSON.stringify(r)}`);
    assert.equal(r.srtp_failures, 0, `SRTP failures: ${JSON.stringify(r)}`);
    const kbitPerViewer = (8 * peakRate(load.samples, 'atrium_udp_bytes_sent_total', 2000)) / 1000 / VIEWERS;
    assert.ok(kbitPerViewer >= 0.8 * VIDEO_KBPS,
      `the server sent ${kbitPerViewer.toFixed(0)} kbit/s per viewer at most, not ~${VIDEO_KBPS}`);

    const kb = (after - before) / VIEWERS;
    console.log(`memory: server counters during the ${VIEWERS}-viewer run: rtp_packets_sent +${m1.atrium_rtp_packets_sent_total - m0.atrium_rtp_packets_sent_total}, `
      + `udp_bytes_sent +${m1.atrium_udp_bytes_sent_total - m0.atrium_udp_bytes_sent_total}, rtp_packets_received +${m1.atrium_rtp_packets_received_total - m0.atrium_rtp_packets_received_total}, `
      + `peak ${kbitPerViewer.toFixed(0)} kbit/s per viewer; atrium-load: published ${r.published_packets} in ${r.duration_s.toFixed(1)} s, `
      + `received ${r.received_total} (least per viewer ${r.min_window_received_per_subscriber} in the window), lost ${r.lost}`);
    console.log(`memory: WHEP viewer at ${VIDEO_KBPS} kbit/s: ${kb.toFixed(0)} KB each (${VIEWERS} viewers, RSS `
      + `${mb(before)} -> ${mb(after)} MB; idle server ${mb(idle)} MB; goal <= ${VIEWER_KB_GOAL} KB)`);
    assert.ok(kb <= VIEWER_KB_GOAL, `a WHEP viewer costs ${kb.toFixed(0)} KB of RSS, more than ${VIEWER_KB_GOAL} KB `
      + `(RSS ${before} -> ${after} kB for ${VIEWERS}; ATRIUM_MEM_VIEWER_KB sets the bound)`);
  });
});

test(`memory per idle SDK client (${SDK_CLIENTS} clients that watch nothing)`, { timeout: 180_000 }, async () => {
  await withServer({ name: 'memory-sdk', workers: 1, args: SERVER_ARGS }, async (server) => {
    assertIsAtrium(server.proc.pid);
    const pid = server.proc.pid;
    await withBrowser({}, async (browser) => {
      const page = await sdkPage(browser, server);
      // Joins `names` in the room with the SDK's defaults (no publish; nobody publishes, so nothing to watch) and
      // waits until each peer connection is connected.
      const joinAll = (names) => page.evaluate(async (o) => {
        window.rooms ??= [];
        const rooms = await Promise.all(o.names.map((peer) => window.sdk.connect(location.origin, { room: o.room, peer })));
        window.rooms.push(...rooms);
        await Promise.all(rooms.map((room) => new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${room.peerId}: peer connection still ${room.pc.connectionState} after ${o.timeoutMs} ms`)), o.timeoutMs);
          const check = () => {
            const s = room.pc.connectionState;
            if (s === 'connected') resolve();
            else if (s === 'failed' || s === 'closed') reject(new Error(`${room.peerId}: peer connection ${s}`));
            else return;
            clearTimeout(timer);
          };
          room.pc.addEventListener('connectionstatechange', check);
          check();
        })));
        return rooms.map((room) => room.peerId);
      }, { room: 'mem-idle', names, timeoutMs: 30_000 });
      const settled = async (sessions) => until(async () => {
        const m = await scrapeMetrics(server);
        return m.atrium_webrtc_sessions === sessions && m.atrium_webrtc_pending_sessions === 0 && m;
      }, { timeoutMs: 30_000, intervalMs: 100, what: `${sessions} connected sessions and none pending` });

      // One client first, so that what the first one sets up once (the room, TLS/DTLS contexts) is in the baseline.
      await joinAll(['warmup']);
      await settled(1);
      const before = await maxRssOver(pid, 1000);

      console.log(`memory: ${SDK_CLIENTS} idle SDK clients joining ...`);
      const started = Date.now();
      const names = Array.from({ length: SDK_CLIENTS }, (_, i) => `idle-${i}`);
      for (let i = 0; i < names.length; i += 10) await joinAll(names.slice(i, i + 10)); // 10 at once: gentle on 2 cores
      const { value: m } = await settled(SDK_CLIENTS + 1);
      const joinMs = Date.now() - started;
      const after = await maxRssOver(pid, 2000);
      const connected = await page.evaluate(() => window.rooms.filter((r) => r.pc.connectionState === 'connected').length);
      assert.equal(connected, SDK_CLIENTS + 1, 'SDK clients whose peer connection is connected');
      assert.equal(m.atrium_peers, SDK_CLIENTS + 1, `atrium_peers: ${JSON.stringify(m)}`);

      const kb = (after - before) / SDK_CLIENTS;
      console.log(`memory: server counters: webrtc_sessions ${m.atrium_webrtc_sessions}, pending ${m.atrium_webrtc_pending_sessions}, `
        + `peers ${m.atrium_peers}, rooms ${m.atrium_rooms}, tracks ${m.atrium_tracks}, udp_datagrams_received ${m.atrium_udp_datagrams_received_total}, `
        + `udp_datagrams_sent ${m.atrium_udp_datagrams_sent_total}, rtp_packets_sent ${m.atrium_rtp_packets_sent_total}; joined in ${joinMs} ms`);
      console.log(`memory: idle SDK client: ${kb.toFixed(0)} KB each (${SDK_CLIENTS} clients, RSS ${mb(before)} -> `
        + `${mb(after)} MB; goal <= ${SDK_KB_GOAL} KB)`);
      await page.evaluate(() => Promise.all(window.rooms.map((r) => r.leave())));
      assert.ok(kb <= SDK_KB_GOAL, `an idle SDK client costs ${kb.toFixed(0)} KB of RSS, more than ${SDK_KB_GOAL} KB `
        + `(RSS ${before} -> ${after} kB for ${SDK_CLIENTS}; ATRIUM_MEM_SDK_KB sets the bound)`);
    });
  });
});
