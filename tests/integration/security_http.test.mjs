// Security (issue 13) on the HTTP side, against the real binary on loopback, as an attacker would try it:
// - the page route never serves a file that was not a page at start: traversal in every spelling, a NUL, /proc,
//   /dev/zero, a FIFO and a symlink planted in the web root all answer 404, and nothing blocks;
// - `Connection: close` is honoured;
// - out of file descriptors the server neither spins nor floods its log, and serves again once they are freed;
// - 2,000 WebSockets that never join, from one address, are refused or closed within 11 s while an SDK client
//   joins, and the server gets its descriptors back.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import WebSocket from 'ws';

import { withBrowser } from './lib/browser.mjs';
import { join, sdkPage } from './lib/sdk.mjs';
import { withServer } from './lib/server.mjs';

const ARGS = ['--bind', '127.0.0.1', '--udp-port', '0'];
const REPO_WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `raw` bytes on a fresh connection and collects everything until the server closes (or `ms`). */
function rawRequest(port, raw, ms = 3000) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(raw));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data: Buffer.concat(chunks).toString('latin1'), closed: false });
    }, ms);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', (e) => { clearTimeout(timer); reject(e); });
    socket.on('end', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks).toString('latin1'), closed: true });
    });
  });
}

const status = (response) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(response)?.[1] ?? 0);
const fdCount = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;

test('the page route serves only the pages loaded at start; every traversal, device, FIFO and symlink is a 404', { timeout: 60_000 }, async () => {
  // A web root of our own, with traps planted in it before the server starts.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-webroot-'));
  fs.cpSync(REPO_WEB, root, { recursive: true });
  fs.symlinkSync('/etc/passwd', path.join(root, 'passwd'));
  fs.symlinkSync('/etc', path.join(root, 'etc'));
  fs.symlinkSync('/proc/self/cmdline', path.join(root, 'room', 'cmdline'));
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
  try {
    await withServer({ name: 'security-static', args: [...ARGS, '--web-root', root, '--auth-secret', 'do-not-leak-me'] }, async (server) => {
      const paths = [
        '/web//etc/passwd', '/web/%2Fetc%2Fpasswd', '/web/%2fproc%2fself%2fcmdline', '/web//proc/self/cmdline',
        '/web/../../../../etc/passwd', '/web/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/web/..%2f..%2f..%2fetc%2fpasswd',
        '/web/%252e%252e%252f%252e%252e%252fetc%252fpasswd', '/web/room/..%5c..%5c..%5cetc%5cpasswd',
        '/web/..\\..\\..\\etc\\passwd', '/web/room/index.html%00.png', '/web/%00/etc/passwd',
        '/web//dev/zero', '/web/%2fdev%2fzero', '/web/fifo', '/web/passwd', '/web/etc/passwd', '/web/room/cmdline',
        '/web/sdk/../../../../etc/passwd', '/web/sdk/%2e%2e/%2e%2e/CMakeCache.txt',
      ];
      for (const p of paths) {
        const started = Date.now();
        const { data } = await rawRequest(server.port, `GET ${p} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
        assert.ok(Date.now() - started < 1000, `${p} took ${Date.now() - started} ms`);
        assert.ok(status(data) === 404 || status(data) === 400, `${p} answered ${status(data)}:\n${data.slice(0, 300)}`);
        assert.ok(!data.includes('root:') && !data.includes('do-not-leak-me'), `${p} leaked a file:\n${data.slice(0, 300)}`);
      }
      // A NUL byte sent raw in the request line is refused by the parser.
      const nul = await rawRequest(server.port, 'GET /web/room/\0/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.ok([400, 404].includes(status(nul.data)), nul.data.slice(0, 200));
      // The real pages are there, with a validator, and revalidation costs no body.
      const page = await fetch(`${server.url}/web/room/`);
      assert.equal(page.status, 200);
      const etag = page.headers.get('etag');
      assert.match(etag ?? '', /^"[0-9a-f]{24}"$/);
      assert.equal(page.headers.get('cache-control'), 'no-cache');
      assert.equal((await fetch(`${server.url}/web/room/`, { headers: { 'If-None-Match': etag } })).status, 304);
      assert.equal((await fetch(`${server.url}/web/sdk/atrium.js`)).status, 200);
      // A symlink planted after the start is never read: the table was made at start.
      fs.symlinkSync('/etc/passwd', path.join(root, 'room', 'late'));
      assert.equal((await fetch(`${server.url}/web/room/late`)).status, 404);
      // The traps were seen, and said so, at start; the server is not blocked on the FIFO.
      const log = fs.readFileSync(server.logFile, 'utf8');
      for (const trap of ['passwd: a symlink', 'fifo: not a regular file', 'room/cmdline: a symlink'])
        assert.ok(log.includes(trap), `the start log does not say "${trap}"`);
      const t0 = Date.now();
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      assert.ok(Date.now() - t0 < 100, `healthz took ${Date.now() - t0} ms`);
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('Connection: close is honoured', { timeout: 30_000 }, async () => {
  await withServer({ name: 'security-close', args: ARGS }, async (server) => {
    const r = await rawRequest(server.port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', 2000);
    assert.equal(status(r.data), 200);
    assert.match(r.data, /\r\nConnection: close\r\n/i, r.data);
    assert.ok(r.closed, 'the server kept the connection open after Connection: close');
    // And keep-alive still keeps it.
    const k = await rawRequest(server.port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n', 500);
    assert.equal(status(k.data), 200);
    assert.ok(!k.closed, 'a keep-alive connection was closed');
  });
});

/** Opens `n` TCP connections; resolves with the sockets once each connected or failed. */
async function openConnections(port, n, { localAddress } = {}) {
  const sockets = [];
  await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    s.closedByServer = false;
    s.on('connect', resolve);
    s.on('error', () => resolve());
    s.on('end', () => { s.closedByServer = true; });
    s.on('close', () => { s.closedByServer = true; });
    sockets.push(s);
  })));
  return sockets;
}

const WHIP_OFFER = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0', 'a=msid-semantic: WMS',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0', 'a=ice-ufrag:fdTe',
  'a=ice-pwd:fdExhaustionClientPassword0', 'a=ice-options:trickle',
  `a=fingerprint:sha-256 ${Array.from({ length: 32 }, (_, i) => ((i * 37 + 11) & 0xff).toString(16).padStart(2, '0')).join(':').toUpperCase()}`,
  'a=setup:actpass', 'a=mid:0', 'a=sendonly', 'a=rtcp-mux', 'a=rtpmap:96 VP8/90000', 'a=ssrc:1000 cname:fd', '',
].join('\r\n');

test('out of file descriptors: no spinning, a quiet log, and service again once they are freed', { timeout: 60_000 }, async () => {
  // ICE-TCP off: its reserve (--tcp-max-connections per worker) would leave HTTP only the minimum under 256.
  await withServer({ name: 'security-fds', args: [...ARGS, '--tcp-port', 'off'], wrap: ['prlimit', '--nofile=256:256', '--'] }, async (server) => {
    const pid = server.proc.pid;
    const log = () => fs.readFileSync(server.logFile, 'utf8');
    // The cap was fitted under the limit at start, and said so.
    const cap = Number(/at most (\d+) HTTP connections/.exec(log())?.[1]);
    assert.ok(cap > 0 && cap < 256, `no connection cap under the fd limit in the log:\n${log()}`);

    // Past the cap, connections are closed at once; the server keeps its descriptors.
    const first = await openConnections(server.port, cap + 60);
    await sleep(500);
    const refused = first.filter((s) => s.closedByServer).length;
    assert.ok(refused >= 50, `only ${refused} of ${cap + 60} connections were refused past the cap of ${cap}`);
    assert.ok(fdCount(pid) < 256, `the server holds ${fdCount(pid)} descriptors`);

    // Now take the limit from under it (as a lower limit or another descriptor user would): accept() fails.
    execFileSync('prlimit', ['--pid', String(pid), '--nofile=80:256']);
    const linesBefore = log().split('\n').length;
    const second = await openConnections(server.port, 100);
    const cpuBefore = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ');
    await sleep(3000);
    const cpuAfter = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ');
    const cpuTicks = Number(cpuAfter[13]) + Number(cpuAfter[14]) - Number(cpuBefore[13]) - Number(cpuBefore[14]);
    const newLines = log().split('\n').length - linesBefore;
    assert.ok(log().includes('accept failed'), 'accept never failed: the test did not exhaust the descriptors');
    // Under 100 lines a minute is 5 in 3 s.
    assert.ok(newLines <= 5, `${newLines} log lines in 3 s while out of descriptors:\n${log().split('\n').slice(-10).join('\n')}`);
    assert.ok(cpuTicks < 60, `the server used ${cpuTicks} ticks of CPU in 3 s while out of descriptors (spinning?)`);

    // Free them: health within 100 ms, and a WHIP publish works.
    for (const s of [...first, ...second]) s.destroy();
    execFileSync('prlimit', ['--pid', String(pid), '--nofile=256:256']);
    await sleep(300);
    const t0 = Date.now();
    const health = await fetch(`${server.url}/healthz`);
    const took = Date.now() - t0;
    assert.equal(health.status, 200);
    assert.ok(took < 100, `/healthz took ${took} ms after the connections closed`);
    const whip = await fetch(`${server.url}/whip/fds?peer=after`, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: WHIP_OFFER,
    });
    assert.equal(whip.status, 201, await whip.text());
    console.log(`fd exhaustion: cap ${cap}, ${refused} refused past it, ${newLines} log lines in 3 s, ${cpuTicks} CPU ticks, /healthz ${took} ms after`);
  });
});

test('2,000 WebSockets that never join are refused or closed within 11 s, while an SDK client joins', { timeout: 120_000 }, async () => {
  await withServer({ name: 'security-ws-flood', args: ARGS }, async (server) => {
    const pid = server.proc.pid;
    const baseline = fdCount(pid);
    const url = `ws://127.0.0.1:${server.port}/sdk/v1`;
    const started = Date.now();
    const ended = [];
    const sockets = Array.from({ length: 2000 }, () => {
      // From 127.0.0.2: one address, not the SDK client's.
      const ws = new WebSocket(url, { localAddress: '127.0.0.2' });
      ws.on('error', () => {});
      ws.on('close', (code) => ended.push({ at: Date.now() - started, code }));
      return ws;
    });
    await withBrowser({}, async (browser) => {
      await sleep(1000);
      const page = await sdkPage(browser, server);
      const joined = await join(page, { room: 'flood', peer: 'steady', publish: false });
      assert.ok(joined.peer === 'steady', `the SDK client could not join during the flood: ${JSON.stringify(joined)}`);
      const deadline = started + 11_000;
      while (ended.length < sockets.length && Date.now() < deadline) await sleep(100);
      assert.equal(ended.length, sockets.length,
        `${sockets.length - ended.length} idle sockets were still open 11 s after the flood began`);
      const joinTimeouts = ended.filter((e) => e.code === 4008).length;
      assert.ok(joinTimeouts > 0, 'no socket was closed for not joining (4008)');
      // The SDK client is still connected and answered.
      const alive = await page.evaluate(() => window.t.room.state ?? 'unknown');
      console.log(`ws flood: ${ended.length} sockets ended, ${joinTimeouts} by the join timeout, last at ${Math.max(...ended.map((e) => e.at))} ms; SDK client state ${alive}`);
    });
    await sleep(500);
    assert.ok(fdCount(pid) < baseline + 20, `the server holds ${fdCount(pid)} descriptors, ${baseline} before the flood`);
  });
});
