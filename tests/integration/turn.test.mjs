// TURN relays with short-lived credentials (docs/turn.md). coturn runs next to atrium in the server's namespace
// (lib/netns.mjs: srv, service address 10.99.0.1), started by this test with its own config file
// (use-auth-secret, static-auth-secret = SECRET). atrium mints a credential per session (--turn-secret,
// --turn-urls) and hands it out in Link headers (WHIP/WHEP: the POST's 201 and a plain OPTIONS, which the
// pages read before they create their RTCPeerConnection) and to the SDK (the pre-join ice_servers request).
// A publisher in `pub` has normal access. The viewer in `sub1` has an nftables output rule that drops what it
// sends to atrium's media ports: only coturn's port (and HTTP to atrium's API) gets through, so only a relay
// works. Nothing forces relay in the browser (no iceTransportPolicy): the test asserts getStats' selected pair
// has a local candidate of type relay, over UDP, then over TCP (UDP to coturn dropped too).
// Expired credential (--turn-ttl -60): coturn answers 401, ICE cannot connect, and the SDK closes the room with
// code ICE_FAILED (its media timeout) instead of hanging.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { scrapeMetrics } from './lib/measure.mjs';
import { startPublisher, startViewer } from './lib/media.mjs';
import { createTopology, HTTP_PORT, netnsUnsupported, SERVICE_IP } from './lib/netns.mjs';

const SECRET = 'atrium-turn-test-secret';
const TURN_PORT = 3478;
const TURN_URLS = `turn:${SERVICE_IP}:${TURN_PORT}?transport=udp,turn:${SERVICE_IP}:${TURN_PORT}?transport=tcp`;
const RUNS = 5;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function hasTurnserver() {
  try {
    execFileSync('sh', ['-c', 'command -v turnserver'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const unsupported = netnsUnsupported() ?? (hasTurnserver() ? null : 'turnserver missing (Debian: coturn; scripts/deps.sh test)');

// coturn in srv: listens and relays on the service address; the Debian service is not involved.
async function startCoturn(topo) {
  const dir = path.join(topo.tmp, 'coturn');
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'turnserver.conf');
  const log = path.join(dir, 'turn.log');
  fs.writeFileSync(conf, [
    `listening-ip=${SERVICE_IP}`,
    `relay-ip=${SERVICE_IP}`,
    `listening-port=${TURN_PORT}`,
    'min-port=49152',
    'max-port=49999',
    'use-auth-secret',
    `static-auth-secret=${SECRET}`,
    'realm=atrium.test',
    'fingerprint',
    'no-tls',
    'no-dtls',
    'no-multicast-peers',
    `allowed-peer-ip=${SERVICE_IP}`,
    'no-cli',
    `log-file=${log}`,
    'simple-log',
    'verbose',
    `pidfile=${path.join(dir, 'turn.pid')}`,
    '',
  ].join('\n'));
  const proc = spawn('ip', ['netns', 'exec', topo.srv, 'turnserver', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (c) => (err += c));
  topo.procs.add(proc);
  topo.closers.push(async () => {
    proc.kill('SIGTERM');
    await sleep(200);
  });
  // Ready once it listens on UDP and TCP (ss inside srv).
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`turnserver exited (${proc.exitCode}): ${err}`);
    const ss = execFileSync('ip', ['netns', 'exec', topo.srv, 'ss', '-lntu'], { encoding: 'utf8' });
    if (ss.includes(`${SERVICE_IP}:${TURN_PORT}`) && ss.split('\n').filter((l) => l.includes(`:${TURN_PORT}`)).length >= 2) {
      return { log: () => { try { return fs.readFileSync(log, 'utf8'); } catch { return ''; } } };
    }
    await sleep(100);
  }
  throw new Error(`turnserver did not listen on ${SERVICE_IP}:${TURN_PORT}: ${err}`);
}

// What `role` sends to the service address: TCP only to atrium's HTTP port and coturn; UDP only to coturn (or
// none with udp: false). An output-hook drop: the browser's sendto() fails at once.
function onlyTurn(topo, role, { udp = true } = {}) {
  const rules = [
    'table inet atrium_turn {',
    '  chain out {',
    '    type filter hook output priority 0; policy accept;',
    udp ? `    ip daddr ${SERVICE_IP} udp dport != ${TURN_PORT} counter drop` : `    ip daddr ${SERVICE_IP} meta l4proto udp counter drop`,
    `    ip daddr ${SERVICE_IP} tcp dport != { ${HTTP_PORT}, ${TURN_PORT} } counter drop`,
    '  }',
    '}',
  ].join('\n');
  execFileSync('ip', ['netns', 'exec', topo.ns(role), 'nft', '-f', '-'], { input: `${rules}\n` });
}

function dropped(topo, role) {
  const out = execFileSync('ip', ['netns', 'exec', topo.ns(role), 'nft', 'list', 'table', 'inet', 'atrium_turn'], { encoding: 'utf8' });
  return [...out.matchAll(/counter packets (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
}

async function byTransport(server) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const sum = (t) => [...text.matchAll(new RegExp(`^atrium_webrtc_sessions_by_transport\\{[^}]*transport="${t}"[^}]*\\} (\\S+)`, 'gm'))]
    .reduce((a, m) => a + Number(m[1]), 0);
  return { udp: sum('udp'), relay: sum('relay') };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function relayedViewers(t, { udp, turnUrls = TURN_URLS }) {
  const topo = await createTopology({ clients: ['pub', 'sub1'] });
  t.after(() => topo.destroy());
  const turn = await startCoturn(topo);
  const server = await topo.startServer({ name: `turn-${udp ? 'udp' : 'tcp'}`, args: ['--turn-secret', SECRET, '--turn-urls', turnUrls] });
  try {
    onlyTurn(topo, 'sub1', { udp });
    // TURN/TCP (handed out in both runs): chromium opens its TCP TURN socket through the network service's proxy-resolving socket, which
    // looks the IP literal up in the host resolver, where the harness's MAP * ~NOTFOUND makes it fail; this
    // viewer's rules let the service address through too (the same switch again: the last one wins).
    const extraArgs = [`--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE ${SERVICE_IP}`];
    const [pubBrowser, subBrowser] = await Promise.all([topo.launchBrowser('pub'), topo.launchBrowser('sub1', { extraArgs })]);
    await startPublisher({ browser: pubBrowser, origin: await topo.origin('pub'), room: 'turn', codec: 'VP8' });
    const origin = await topo.origin('sub1');
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const viewer = await startViewer({ browser: subBrowser, origin, room: 'turn' });
      const stats = await viewer.waitForFrames(60, 30_000).catch(async (error) => {
        const candidates = await viewer.page.evaluate(async () => {
          const out = [window.pc.getConfiguration().iceServers];
          (await window.pc.getStats()).forEach((r) => {
            if (r.type === 'local-candidate' || r.type === 'candidate-pair') out.push(r);
          });
          return out;
        });
        const tcp = execFileSync('ip', ['netns', 'exec', topo.ns('sub1'), 'bash', '-c',
          `timeout 2 bash -c 'echo > /dev/tcp/${SERVICE_IP}/${TURN_PORT}' && echo reachable || echo unreachable`], { encoding: 'utf8' });
        const nft = execFileSync('ip', ['netns', 'exec', topo.ns('sub1'), 'nft', 'list', 'table', 'inet', 'atrium_turn'], { encoding: 'utf8' });
        throw new Error(`${error.message}; coturn over TCP from sub1: ${tcp}; ${nft}; candidates: ${JSON.stringify(candidates)}`);
      });
      const pair = await viewer.page.evaluate(() => window.media.selectedPair());
      assert.equal(pair?.local?.candidateType, 'relay', `run ${i}: the selected pair is not relayed: ${JSON.stringify(pair)}`);
      assert.equal(pair.local.relayProtocol, udp ? 'udp' : 'tcp', JSON.stringify(pair));
      runs.push({ connectMs: Math.round(pair.connectMs), afterAnswerMs: Math.round(pair.connectAfterAnswerMs ?? -1), frames: stats.video.framesDecoded, pair });
      await viewer.stop();
      await viewer.page.close();
    }
    const counts = await byTransport(server);
    const log = fs.readFileSync(server.logFile, 'utf8');
    const summary = {
      turn: udp ? 'udp' : 'tcp',
      connectMs: runs.map((r) => r.connectMs),
      p50ConnectMs: median(runs.map((r) => r.connectMs)),
      // From the POST's 201 to connected: the relayed ICE check + DTLS (the rest is the page's gathering wait).
      afterAnswerMs: runs.map((r) => r.afterAnswerMs),
      p50AfterAnswerMs: median(runs.map((r) => r.afterAnswerMs)),
      frames: runs.map((r) => r.frames),
      local: runs[0].pair.local,
      remote: runs[0].pair.remote,
      sessionsByTransport: counts,
      droppedBySub1Firewall: dropped(topo, 'sub1'),
      coturnAllocations: (turn.log().match(/ALLOCATE processed, success/g) ?? []).length,
    };
    console.log(`turn over ${summary.turn}: ${JSON.stringify(summary)}`);
    // Every viewer relayed (the publisher connected directly: udp).
    assert.ok(counts.relay >= RUNS, `relayed sessions counted: ${JSON.stringify(counts)}`);
    assert.ok(counts.udp >= 1, `the publisher's direct session: ${JSON.stringify(counts)}`);
    assert.match(log, /connected via relay/);
    assert.ok(summary.droppedBySub1Firewall > 0, 'the viewer tried the direct path and it was dropped');
    assert.ok(summary.coturnAllocations >= RUNS, `coturn allocations: ${summary.coturnAllocations}`);
  } catch (error) {
    console.error(`--- atrium log ---\n${server.tail(60)}\n--- coturn log ---\n${turn.log().split('\n').slice(-40).join('\n')}`);
    throw error;
  }
}

test('a viewer whose direct UDP is dropped watches through coturn over UDP (relay candidate)', { skip: unsupported ?? false, timeout: 240_000 }, async (t) => {
  await relayedViewers(t, { udp: true });
});

test('the same over TURN/TCP when UDP to coturn is dropped too', { skip: unsupported ?? false, timeout: 240_000 }, async (t) => {
  await relayedViewers(t, { udp: false });
});

test('an expired TURN credential: coturn refuses it and the SDK closes the room with ICE_FAILED', { skip: unsupported ?? false, timeout: 120_000 }, async (t) => {
  const topo = await createTopology({ clients: ['sub1'] });
  t.after(() => topo.destroy());
  const turn = await startCoturn(topo);
  const server = await topo.startServer({ name: 'turn-expired', args: ['--turn-secret', SECRET, '--turn-urls', TURN_URLS, '--turn-ttl', '-60'] });
  onlyTurn(topo, 'sub1');
  const browser = await topo.launchBrowser('sub1');
  const page = await browser.newPage();
  await page.goto(`${await topo.origin('sub1')}/web/test/media.html`);
  const result = await page.evaluate(async () => {
    const sdk = await import('/web/sdk/atrium.js');
    const started = Date.now();
    const room = await sdk.connect(location.origin, { room: 'expired', peer: 'late' });
    const servers = room.pc.getConfiguration().iceServers;
    return new Promise((resolve) => {
      const events = [];
      room.on('error', (e) => events.push({ event: 'error', ...e }));
      room.on('closed', (e) => resolve({ closed: e, ms: Date.now() - started, events, servers }));
      setTimeout(() => resolve({ closed: null, ms: Date.now() - started, events, servers, state: room.pc.connectionState }), 40_000);
    });
  });
  const coturnLog = turn.log();
  console.log(`expired credential: ${JSON.stringify({ ...result, servers: result.servers.map((s) => ({ ...s, credential: '...' })) })}`);
  // The SDK was given the (expired) credential, so it did ask coturn, which said no.
  const turnServer = result.servers.find((s) => String(s.urls).includes('turn:'));
  assert.ok(turnServer, JSON.stringify(result.servers));
  assert.ok(Number(turnServer.username.split(':')[0]) < Date.now() / 1000, `an expired username: ${turnServer.username}`);
  assert.match(coturnLog, /401/, 'coturn refused the allocation (401)');
  assert.equal(result.closed?.code, 'ICE_FAILED', JSON.stringify(result));
  assert.ok(result.ms < 15_000, `closed after ${result.ms} ms`);
  assert.ok(result.events.some((e) => e.event === 'error' && e.code === 'ICE_FAILED'));
  const metrics = await scrapeMetrics(server);
  assert.equal(metrics.atrium_webrtc_sessions_by_transport ?? 0, 0, 'nothing connected');
});
