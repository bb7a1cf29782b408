// GStreamer as a WHIP/WHEP client (Debian's webrtcbin, driven by clients/gst_whip.py), against Chromium:
// GStreamer publishes VP8 or H264 + Opus and a Chromium WHEP viewer decodes it; Chromium publishes VP8 or H264 and a
// GStreamer WHEP receiver decodes it. libnice (webrtcbin's ICE) never gathers loopback addresses, so GStreamer runs
// in its own network namespace joined to atrium's by a veth pair (lib/netns.mjs, as the bitrate_* tests); Chromium
// runs in a second one. One topology, one server and one Chromium serve the four scenarios, each in its own room.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startPublisher, startViewer } from './lib/media.mjs';
import { createTopology, netnsUnsupported } from './lib/netns.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLIENT = path.join(here, 'clients/gst_whip.py');
// Debian's python: python3-gi and python3-gst-1.0 are installed for it, not for another python3 on the PATH.
const PYTHON = '/usr/bin/python3';
const FRAMES = 60;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function gstUnsupported() {
  try {
    execFileSync(PYTHON, ['-c', `import gi
gi.require_version('Gst', '1.0'); gi.require_version('GstWebRTC', '1.0')
from gi.repository import Gst
Gst.init(None)
missing = [e for e in 'webrtcbin nicesrc vp8enc vp8dec x264enc avdec_h264 opusenc opusdec'.split() if not Gst.ElementFactory.find(e)]
assert not missing, missing`], { stdio: 'pipe' });
    return null;
  } catch (error) {
    return `GStreamer webrtcbin client unavailable (scripts/deps.sh test): ${String(error.stderr).trim().split('\n').at(-1)}`;
  }
}

const unsupported = netnsUnsupported() ?? gstUnsupported();
let topo;
let server;
let browser;
let origin;
let gstUrl;

// A fresh veth has NO-CARRIER for a moment; libnice skips such a link and webrtcbin then never finishes gathering.
async function waitForCarrier(ns, dev) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const link = execFileSync('ip', ['-n', ns, 'link', 'show', 'dev', dev], { encoding: 'utf8' });
    if (!link.includes('NO-CARRIER') && link.includes('LOWER_UP')) return;
    assert.ok(Date.now() < deadline, `${dev} in ${ns} has no carrier after 10 s: ${link}`);
    await sleep(50);
  }
}

before(async () => {
  if (unsupported) return;
  topo = await createTopology({ clients: ['gst', 'web'] });
  server = await topo.startServer({ name: 'gstreamer' });
  await Promise.all([waitForCarrier(topo.ns('gst'), 'eth0'), waitForCarrier(topo.srv, 'to-gst')]);
  browser = await topo.launchBrowser('web');
  origin = await topo.origin('web');
  gstUrl = `http://${topo.serviceIp}:${topo.httpPort}`;
});

after(async () => {
  await topo?.destroy();
});

// Runs gst_whip.py in the gst namespace; `lines` are its JSON stdout lines, `stderr` its log.
function gst(args) {
  const proc = spawn('ip', ['netns', 'exec', topo.ns('gst'), PYTHON, CLIENT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const client = { proc, lines: [], stderr: '' };
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk) => {
    out += chunk;
    for (let i; (i = out.indexOf('\n')) >= 0; out = out.slice(i + 1)) {
      try {
        client.lines.push(JSON.parse(out.slice(0, i)));
      } catch {
        client.stderr += `(stdout) ${out.slice(0, i)}\n`;
      }
    }
  });
  proc.stderr.setEncoding('utf8').on('data', (chunk) => (client.stderr += chunk));
  client.event = (name) => client.lines.find((l) => l.event === name);
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  client.exit = () => exited;
  return client;
}

async function until(what, timeoutMs, fn) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value.done) return value.result;
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs} ms: ${JSON.stringify(value.result)}`);
    await sleep(250);
  }
}

function report(error, clients) {
  for (const c of clients) if (c) console.error(`--- gst_whip.py ${c.proc.spawnargs.slice(5).join(' ')} (exit ${c.proc.exitCode ?? c.proc.signalCode ?? 'running'}) stderr ---\n${c.stderr.trimEnd().split('\n').slice(-30).join('\n')}\n---`);
  console.error(`--- atrium log (${server.logFile}), last lines ---\n${server.tail()}\n---`);
  console.error(`--- chromium console ---\n${browser.consoleLines.slice(-20).join('\n')}\n---`);
  throw error;
}

const videoCodec = (page) => page.evaluate(async () => {
  const stats = await window.pc.getStats();
  const codecs = {};
  stats.forEach((r) => { if (r.type === 'codec') codecs[r.id] = r.mimeType; });
  let mime = null;
  stats.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') mime = codecs[r.codecId]; });
  return mime;
});

async function gstToChromium(codec) {
  const room = `gst-pub-${codec}`;
  const started = Date.now();
  let pub;
  try {
    pub = gst(['publish', `${gstUrl}/whip/${room}`, '--codec', codec, '--timeout', '30']);
    await until('GStreamer publisher connected', 35_000, () => ({ done: !!pub.event('connected') || pub.proc.exitCode !== null, result: pub.lines }));
    assert.ok(pub.event('connected'), `the GStreamer publisher exited: ${JSON.stringify(pub.lines)}`);
    const viewer = await startViewer({ browser, origin, room });
    const first = await until(`Chromium decoding ${FRAMES} frames and 100 audio packets`, 30_000, async () => {
      const s = await viewer.stats();
      return { done: (s.video?.framesDecoded ?? 0) >= FRAMES && (s.audio?.packetsReceived ?? 0) > 100, result: s };
    });
    const later = await until('frames still rising', 10_000, async () => {
      const s = await viewer.stats();
      return { done: s.video.framesDecoded > first.video.framesDecoded, result: s };
    });
    const mime = await videoCodec(viewer.page);
    console.log(`gstreamer: GStreamer ${codec} -> Chromium: ${JSON.stringify({
      framesDecoded: later.video.framesDecoded, frameWidth: later.video.frameWidth, frameHeight: later.video.frameHeight,
      audioPackets: later.audio.packetsReceived, codec: mime, seconds: (Date.now() - started) / 1000 })}`);
    assert.equal(mime?.toLowerCase(), `video/${codec}`);
    assert.equal(later.video.frameWidth, 640);
    await viewer.stop();
    await viewer.page.close();
    pub.proc.kill('SIGTERM'); // gst_whip.py DELETEs its session and exits 0
    const end = await pub.exit();
    assert.equal(end.code, 0, `the GStreamer publisher ended with ${JSON.stringify(end)}`);
  } catch (error) {
    report(error, [pub]);
  } finally {
    if (pub?.proc.exitCode === null) pub.proc.kill('SIGKILL');
  }
}

async function chromiumToGst(codec) {
  const room = `gst-sub-${codec}`;
  const started = Date.now();
  let sub;
  let publisher;
  try {
    publisher = await startPublisher({ browser, origin, room, codec: codec.toUpperCase() });
    sub = gst(['receive', `${gstUrl}/whep/${room}`, '--codec', codec, '--frames', String(FRAMES), '--audio', '50', '--timeout', '40']);
    const end = await sub.exit();
    const done = sub.event('done');
    const sent = await publisher.stats();
    console.log(`gstreamer: Chromium ${codec} -> GStreamer: ${JSON.stringify({ ...done, exit: end.code,
      publisherFrameWidth: sent.video['']?.frameWidth, testSeconds: (Date.now() - started) / 1000 })}`);
    assert.equal(end.code, 0, `gst_whip.py receive ended with ${JSON.stringify(end)}: ${JSON.stringify(done)}`);
    assert.ok(done.videoFrames >= FRAMES, JSON.stringify(done));
    assert.ok(done.audioBuffers >= 50, JSON.stringify(done));
    assert.ok(done.width > 0 && done.height > 0, JSON.stringify(done));
    await publisher.stop();
    await publisher.page.close();
  } catch (error) {
    report(error, [sub]);
  } finally {
    if (sub?.proc.exitCode === null) sub.proc.kill('SIGKILL');
  }
}

const opts = { skip: unsupported ?? false, timeout: 90_000 };
test('GStreamer publishes VP8 + Opus with WHIP, a Chromium WHEP viewer decodes it', opts, () => gstToChromium('vp8'));
test('GStreamer publishes H264 + Opus with WHIP, a Chromium WHEP viewer decodes it', opts, () => gstToChromium('h264'));
test('Chromium publishes VP8 with WHIP, a GStreamer WHEP receiver decodes it', opts, () => chromiumToGst('vp8'));
test('Chromium publishes H264 with WHIP, a GStreamer WHEP receiver decodes it', opts, () => chromiumToGst('h264'));
