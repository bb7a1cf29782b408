// ICE over TCP (issue 19; docs/webrtc.md, "ICE over TCP"): atrium's passive TCP candidates (RFC 6544, RFC 4571
// framing), the send queue that drops whole frames for a slow TCP viewer, and bad input on the TCP media port.
//
// The first two tests use network namespaces (lib/netns.mjs): atrium in srv, a simulcast publisher in pub, the TCP
// viewers in sub1, whose nftables output rule drops every UDP packet to the server, and UDP viewers in sub2.
//  - UDP blocked: five WHEP viewers in sub1 connect over TCP (getStats' selected pair is TCP), the first decodes 60
//    frames within 10 s; five in sub2 connect over UDP, for the connect-time comparison the log prints (p50).
//  - The same through the SDK: an SDK page in sub1 joins a room with an SDK publisher in pub, decodes 60 frames
//    within 10 s of its join, and its room's peer connection selected a TCP pair.
//  - A slow TCP viewer: 300 kbit/s (tbf) towards sub1: the TCP viewer settles on the low layer, the queue stays
//    bounded (atrium_tcp_queued_bytes), while two UDP viewers in sub2 keep decoding with no gap over 500 ms.
// The third runs on loopback, from node: random bytes, a 65535 length with nothing behind, a STUN check with a wrong
// MESSAGE-INTEGRITY, a half frame, 1000 idle connections (closed after --tcp-pending-timeout), a matched client that
// stops reading; each is counted in /metrics, and then a browser viewer over UDP still decodes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { publishAndWatch, withBrowser } from './lib/browser.mjs';
import { answerTransport, bindingRequest, CLIENT_UFRAG, parseStun, WHEP_OFFER } from './lib/ice_check.mjs';
import { metric, scrapeMetrics } from './lib/measure.mjs';
import { startPublisher, startViewer } from './lib/media.mjs';
import { createTopology, netnsUnsupported, SERVICE_IP } from './lib/netns.mjs';
import { join, sdkPage, selectedPair, until, waitDecoding } from './lib/sdk.mjs';
import { startServer } from './lib/server.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const RUNS = 5;

/** The sum over workers of `name` (optionally with a label filter such as transport="tcp"). */
async function total(server, name, label = '') {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)`, 'gm'))]
    .filter((m) => !label || m[1].includes(label))
    .reduce((a, m) => a + Number(m[2]), 0);
}

// Everything `role` sends to the server over UDP is dropped (an output-hook rule: sendto fails at once).
function blockUdp(topo, role) {
  const rules = [
    'table inet atrium_icetcp {',
    '  chain out {',
    '    type filter hook output priority 0; policy accept;',
    `    ip daddr ${SERVICE_IP} meta l4proto udp counter drop`,
    '  }',
    '}',
  ].join('\n');
  execFileSync('ip', ['netns', 'exec', topo.ns(role), 'nft', '-f', '-'], { input: `${rules}\n` });
}

function udpDropped(topo, role) {
  const out = execFileSync('ip', ['netns', 'exec', topo.ns(role), 'nft', 'list', 'table', 'inet', 'atrium_icetcp'], { encoding: 'utf8' });
  return Number(/counter packets (\d+)/.exec(out)?.[1] ?? 0);
}

// framesDecoded of `viewers`, sampled every 100 ms for `ms`: per viewer the frames decoded and the longest gap
// between two samples that saw a new frame.
async function watchFrames(viewers, ms) {
  const last = viewers.map(() => ({ frames: -1, at: Date.now(), gap: 0, first: -1 }));
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const stats = await Promise.all(viewers.map((v) => v.stats()));
    const now = Date.now();
    stats.forEach((s, i) => {
      const f = s.video?.framesDecoded ?? 0;
      if (last[i].first < 0) last[i].first = f;
      if (f !== last[i].frames) {
        if (last[i].frames >= 0) last[i].gap = Math.max(last[i].gap, now - last[i].at);
        last[i].frames = f;
        last[i].at = now;
      }
    });
    await sleep(100);
  }
  const now = Date.now();
  return last.map((l) => ({ fps: ((l.frames - l.first) * 1000) / ms, maxGapMs: Math.max(l.gap, now - l.at) }));
}

const unsupported = netnsUnsupported();

describe('ICE-TCP through namespaces', { skip: unsupported ?? false }, () => {
  let topo;
  let server;
  let browsers;

  before(async () => {
    topo = await createTopology({ clients: ['pub', 'sub1', 'sub2'] });
    server = await topo.startServer({ name: 'ice-tcp', args: ['--tcp-send-queue', '65536', ...(process.env.ICE_TCP_DEBUG ? ['--log-level', 'debug'] : [])] });
    blockUdp(topo, 'sub1');
    // Chromium opens ICE-TCP sockets (like TCP TURN ones, turn.test.mjs) through its proxy-resolving socket, which
    // looks the IP literal up in the host resolver: the harness's MAP * ~NOTFOUND must let the service address by.
    const extraArgs = [`--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE ${SERVICE_IP}`];
    browsers = await Promise.all(['pub', 'sub1', 'sub2'].map((role) => topo.launchBrowser(role, role === 'sub1' ? { extraArgs } : {})));
    await startPublisher({ browser: browsers[0], origin: await topo.origin('pub'), room: 'icetcp', simulcast: true });
  });
  after(async () => topo?.destroy());

  test('UDP blocked: the viewer connects over TCP and decodes 60 frames within 10 s', async () => {
    const connect = { tcp: [], udp: [] };
    for (const [role, path] of [['sub1', 'tcp'], ['sub2', 'udp']]) {
      const origin = await topo.origin(role);
      const browser = browsers[role === 'sub1' ? 1 : 2];
      for (let i = 0; i < RUNS; i++) {
        const started = Date.now();
        const viewer = await startViewer({ browser, origin, room: 'icetcp' });
        // The first run decodes 60 frames; the others, timed for connecting, one (the file's time budget).
        await viewer.waitForFrames(i === 0 ? 60 : 1, 10_000 - (Date.now() - started));
        const pair = await viewer.page.evaluate(() => window.media.selectedPair());
        assert.equal(pair?.local?.protocol, path, `${role} run ${i}: selected pair ${JSON.stringify(pair)}`);
        assert.equal(pair.remote.protocol, path, JSON.stringify(pair));
        // The room's worker's port: --udp-port + worker index, the same numbers over TCP.
        if (path === 'tcp') assert.ok([40000, 40001].includes(pair.remote.port), `TCP candidate port: ${JSON.stringify(pair)}`);
        connect[path].push({ connectMs: Math.round(pair.connectMs), framesMs: Date.now() - started });
        await viewer.stop();
        await viewer.page.close();
      }
    }
    const tcpSessions = await total(server, 'atrium_webrtc_sessions_by_transport', 'transport="tcp"');
    const summary = {
      p50ConnectMs: { tcp: median(connect.tcp.map((r) => r.connectMs)), udp: median(connect.udp.map((r) => r.connectMs)) },
      to60FramesMs: { tcp: connect.tcp[0].framesMs, udp: connect.udp[0].framesMs },
      runs: connect,
      tcpSessions,
      udpDroppedBySub1: udpDropped(topo, 'sub1'),
    };
    console.log(`ice-tcp connect: ${JSON.stringify(summary)}`);
    assert.ok(tcpSessions >= RUNS, `sessions counted over tcp: ${tcpSessions}`);
    assert.ok(summary.udpDroppedBySub1 > 0, 'sub1 never tried UDP: the test did not block anything');
    assert.match(server.tail(200), /connected via tcp from 10\.77\.\d+\.\d+:\d+ tcp/);
  });

  test('UDP blocked, through the SDK: the room page connects over TCP and decodes 60 frames within 10 s', async () => {
    // An SDK publisher in pub (its own room, a direct UDP path), then the SDK viewer in sub1, timed from its join.
    const publisher = await sdkPage(browsers[0], { browserUrl: await topo.origin('pub') });
    const viewer = await sdkPage(browsers[1], { browserUrl: await topo.origin('sub1') });
    try {
      const published = await join(publisher, { room: 'icetcp-sdk', peer: 'sdkpub', subscribeAll: false });
      assert.ok(!published.error, `publisher join: ${published.error}`);
      const started = Date.now();
      const joined = await join(viewer, { room: 'icetcp-sdk', peer: 'sdktcp', publish: false });
      assert.ok(!joined.error, `viewer join: ${joined.error}`);
      const connected = await until(() => viewer.evaluate(() => window.t.room.pc.connectionState === 'connected'),
        { timeoutMs: 10_000, what: 'the SDK viewer connected' });
      const connectMs = Date.now() - started;
      await waitDecoding(viewer, ['sdkpub'], { minFrames: 60, timeoutMs: 10_000 - (Date.now() - started), label: 'the SDK viewer over TCP' });
      const framesMs = Date.now() - started - 1000; // waitDecoding looks again a second later
      const pair = await selectedPair(viewer);
      console.log(`ice-tcp sdk: ${JSON.stringify({ connectMs, pollMs: connected.ms, framesMs, pair, udpDroppedBySub1: udpDropped(topo, 'sub1') })}`);
      assert.equal(pair?.local?.protocol, 'tcp', `selected pair ${JSON.stringify(pair)}`);
      assert.equal(pair.remote.protocol, 'tcp', JSON.stringify(pair));
      assert.ok([40000, 40001].includes(pair.remote.port), `TCP candidate port: ${JSON.stringify(pair)}`);
      assert.ok(framesMs <= 10_000, `60 frames after ${framesMs} ms`);
    } finally {
      await Promise.all([viewer, publisher].map((p) => p.evaluate(() => window.t?.room?.leave()).catch(() => {})));
      await Promise.all([viewer, publisher].map((p) => p.close()));
    }
  });

  test('a slow TCP viewer settles on the low layer; UDP viewers keep their frame rate', async () => {
    topo.capLink('sub1', 300);
    const tcpViewer = await startViewer({ browser: browsers[1], origin: await topo.origin('sub1'), room: 'icetcp' });
    const origin2 = await topo.origin('sub2');
    const udpViewers = [await startViewer({ browser: browsers[2], origin: origin2, room: 'icetcp' }),
      await startViewer({ browser: browsers[2], origin: origin2, room: 'icetcp' })];
    await Promise.all(udpViewers.map((v) => v.waitForFrames(30, 10_000)));
    await tcpViewer.waitForFrames(10, 15_000);
    let maxQueued = 0;
    const sampling = (async () => {
      for (let i = 0; i < 40; i++) {
        maxQueued = Math.max(maxQueued, await total(server, 'atrium_tcp_queued_bytes'));
        await sleep(250);
      }
    })();
    const [udpA, udpB] = await watchFrames(udpViewers, 10_000);
    await sampling;
    const tcp = await tcpViewer.stats();
    const metrics = {
      framesDropped: await total(server, 'atrium_tcp_frames_dropped_total'),
      framesCut: await total(server, 'atrium_tcp_frames_cut_total'),
      packetsDropped: await total(server, 'atrium_tcp_packets_dropped_total'),
      bytesQueued: await total(server, 'atrium_tcp_bytes_queued_total'),
      maxQueued,
    };
    console.log(`ice-tcp slow viewer: ${JSON.stringify({ udpA, udpB, tcp: tcp.video, metrics })}`);
    for (const v of [udpA, udpB]) {
      assert.ok(v.fps >= 15, `a UDP viewer's frame rate fell: ${JSON.stringify(v)}`);
      assert.ok(v.maxGapMs <= 500, `a UDP viewer froze: ${JSON.stringify(v)}`);
    }
    assert.ok(tcp.video.frameHeight <= 180, `the TCP viewer is not on the low layer: ${JSON.stringify(tcp.video)}`);
    // One TCP viewer's queue (--tcp-send-queue 65536) is all that may wait.
    assert.ok(maxQueued <= 65536, `queued bytes ${maxQueued}`);
    topo.uncapLink('sub1');
  });
});

// ---- bad input, on loopback ------------------------------------------------------------------------------------

const TIMEOUT_MS = 1000;

function connectTcp(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
}

// Resolves with the ms from now until the server closed `s` (or -1 after `ms`).
function closedWithin(s, ms) {
  const start = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(-1), ms);
    const done = () => {
      clearTimeout(timer);
      resolve(Date.now() - start);
    };
    if (s.destroyed || s.readableEnded) return done();
    s.on('close', done);
    s.on('end', done);
    s.on('error', () => {});
    s.resume();
  });
}

const framed = (bytes) => Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);

describe('bad input on the TCP media port', () => {
  let server;
  let tcpPort;
  let session;

  before(async () => {
    server = await startServer({
      name: 'ice-tcp-bad', workers: 1,
      args: ['--bind', '127.0.0.1', '--udp-port', '0', '--tcp-pending-timeout', String(TIMEOUT_MS), '--tcp-max-pending', '1100',
        '--tcp-max-pending-per-address', '1100', '--tcp-max-connections', '1200', '--tcp-send-queue', '16384'],
    });
    const r = await fetch(`${server.url}/whep/tcpbad`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: WHEP_OFFER });
    const answer = await r.text();
    assert.equal(r.status, 201, answer);
    session = answerTransport(answer);
    const candidate = /^a=candidate:\S+ 1 tcp (\d+) 127\.0\.0\.1 (\d+) typ host tcptype passive/m.exec(answer);
    assert.ok(candidate, `no passive TCP candidate in the answer:\n${answer}`);
    const udpPriority = Number(/^a=candidate:\S+ 1 udp (\d+) /m.exec(answer)[1]);
    assert.ok(Number(candidate[1]) < udpPriority, 'the TCP candidate must rank below the UDP one');
    tcpPort = Number(candidate[2]);
  });
  after(async () => server?.stop());

  test('garbage, a huge length, a wrong integrity: closed at once and counted', async () => {
    const before = {
      malformed: await metric(server, 'atrium_tcp_connections_malformed_total'),
      unauthorized: await metric(server, 'atrium_tcp_connections_unauthorized_total'),
      stun401: await metric(server, 'atrium_stun_unauthorized_total'),
    };
    // Random bytes in a frame of plausible length (the first byte not STUN's), then a 65535 length alone.
    const noise = crypto.randomBytes(400);
    noise[0] = 0;
    noise[1] = 200;
    noise[2] |= 0x80;
    const garbage = await connectTcp(tcpPort);
    garbage.write(noise);
    const huge = await connectTcp(tcpPort);
    huge.write(Buffer.from([0xff, 0xff]));
    const wrong = await connectTcp(tcpPort);
    wrong.write(framed(bindingRequest({ username: `${session.ufrag}:${CLIENT_UFRAG}`, key: session.pwd, wrongIntegrity: true }).bytes));
    const closed = await Promise.all([garbage, huge, wrong].map((s) => closedWithin(s, TIMEOUT_MS / 2)));
    assert.ok(closed.every((ms) => ms >= 0), `closed after ms (before the pending timeout): ${closed}`);
    const now = {
      malformed: await metric(server, 'atrium_tcp_connections_malformed_total'),
      unauthorized: await metric(server, 'atrium_tcp_connections_unauthorized_total'),
      stun401: await metric(server, 'atrium_stun_unauthorized_total'),
    };
    assert.equal(now.malformed - before.malformed, 2, JSON.stringify({ before, now }));
    assert.equal(now.unauthorized - before.unauthorized, 1, JSON.stringify({ before, now }));
  });

  test('a valid check over TCP is answered, then a client that stops reading costs only its own queue', async () => {
    const s = await connectTcp(tcpPort);
    const chunks = [];
    s.on('data', (d) => chunks.push(d));
    const check = bindingRequest({ username: `${session.ufrag}:${CLIENT_UFRAG}`, key: session.pwd });
    s.write(framed(check.bytes));
    let answer = null;
    for (let i = 0; i < 100 && !answer; i++) {
      await sleep(20);
      const all = Buffer.concat(chunks);
      if (all.length >= 2 && all.length >= 2 + all.readUInt16BE(0)) answer = parseStun(all.subarray(2, 2 + all.readUInt16BE(0)));
    }
    assert.ok(answer && answer.tid.equals(check.tid), 'no framed STUN answer on the TCP connection');
    assert.equal(answer.type, 0x0101, 'expected a binding success response');
    assert.equal(await metric(server, 'atrium_tcp_pending_connections'), 0);

    // Stop reading, and keep checking: the answers fill the kernel's buffers, then the connection's queue.
    s.removeAllListeners('data');
    s.pause();
    const dropsBefore = await metric(server, 'atrium_tcp_other_dropped_total');
    let drops = dropsBefore;
    const batch = Buffer.concat(Array.from({ length: 500 }, () => framed(bindingRequest({ username: `${session.ufrag}:${CLIENT_UFRAG}`, key: session.pwd }).bytes)));
    for (let i = 0; i < 400 && drops === dropsBefore; i++) {
      await new Promise((resolve) => s.write(batch, resolve));
      if (i % 10 === 9) drops = await metric(server, 'atrium_tcp_other_dropped_total');
    }
    const queued = await metric(server, 'atrium_tcp_queued_bytes');
    console.log(`ice-tcp stalled reader: ${JSON.stringify({ drops: drops - dropsBefore, queued })}`);
    assert.ok(drops > dropsBefore, 'the stalled connection never dropped: its queue is not bounded');
    assert.ok(queued <= 16384, `queued ${queued} bytes, over --tcp-send-queue`);
    // The worker still answers: /healthz and another check on a new connection.
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    s.destroy();
  });

  test('1000 idle connections and a half frame are closed after the pending timeout', async () => {
    const before = await metric(server, 'atrium_tcp_connections_timed_out_total');
    const sockets = [];
    for (let i = 0; i < 1000; i++) sockets.push(await connectTcp(tcpPort));
    const half = await connectTcp(tcpPort);
    half.write(Buffer.concat([Buffer.from([0, 100]), Buffer.alloc(10)]));
    // connect() resolves once the kernel has the connection, maybe before the worker accepted it: look a few times
    // (well within the pending timeout).
    let pending = 0;
    for (let i = 0; i < 20 && pending < 1000; i++) {
      pending = await metric(server, 'atrium_tcp_pending_connections');
      if (pending < 1000) await sleep(10);
    }
    assert.ok(pending >= 1000, `pending connections: ${pending}`);
    const closed = await Promise.all([...sockets, half].map((s) => closedWithin(s, TIMEOUT_MS * 5)));
    const early = closed.filter((ms) => ms >= 0 && ms < TIMEOUT_MS / 2).length;
    const open = closed.filter((ms) => ms < 0).length;
    assert.equal(open, 0, `${open} connections still open after ${TIMEOUT_MS * 5} ms`);
    assert.equal(early, 0, `${early} connections closed before the timeout`);
    const timedOut = await metric(server, 'atrium_tcp_connections_timed_out_total');
    assert.ok(timedOut - before >= 1001, `timed out: ${timedOut - before}`);
    assert.equal(await metric(server, 'atrium_tcp_connections'), 0);
  });

  test('a browser viewer over UDP still decodes afterwards', async () => {
    await withBrowser({}, (browser) => publishAndWatch(browser, server, 'after-tcp-garbage'));
    const metrics = await scrapeMetrics(server);
    assert.ok(metrics, 'metrics readable');
  });
});
