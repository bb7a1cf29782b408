// HTTPS and WSS on the API (docs/server.md, "TLS"). With --tls-self-signed, Chromium (told to ignore certificate
// errors) loads the room demo over https://localhost, joins over wss, publishes and decodes the other page; the
// certificate served is the one whose fingerprint the server logged; plain HTTP and junk sent to the TLS port are
// closed and counted while the server keeps serving. With --tls-cert/--tls-key: unusable files stop the start with
// one line, and after the files are rewritten SIGHUP makes new connections get the new certificate while an open
// one keeps the old; a reload that fails keeps what is served.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';

import { withBrowser } from './lib/browser.mjs';
import { join, sdkPage, until, waitDecoding } from './lib/sdk.mjs';
import { httpsRequest, runAtrium, withServer } from './lib/server.mjs';

// What the server logs at start and on a reload.
const loggedFingerprints = (server) => [...fs.readFileSync(server.logFile, 'utf8')
  .matchAll(/SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/g)].map((m) => m[1]);

async function tlsFailures(server) {
  const { body } = await httpsRequest(`${server.url}/metrics`);
  const m = body.match(/^atrium_tls_handshake_failures_total (\d+)$/m);
  assert.ok(m, 'atrium_tls_handshake_failures_total is in /metrics');
  return Number(m[1]);
}

// Sends `bytes` over plain TCP; resolves with what came back once the server closed the connection.
function sendRaw(port, bytes, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`the server kept the connection ${timeoutMs} ms`)); }, timeoutMs);
    socket.on('data', (d) => (got = Buffer.concat([got, d])));
    socket.on('error', () => {}); // a reset is a close too
    socket.on('close', () => { clearTimeout(timer); resolve(got.toString('latin1')); });
  });
}

test('--tls-self-signed: the demo over https and wss publishes and decodes; plain HTTP to the port is closed and counted', { timeout: 60_000 }, async () => {
  await withServer({ name: 'https', args: ['--tls-self-signed', '--bind', '127.0.0.1', '--udp-port', '0'] }, async (server) => {
    assert.match(fs.readFileSync(server.logFile, 'utf8'), new RegExp(`listening on https://127\\.0\\.0\\.1:${server.port} `));
    const [logged] = loggedFingerprints(server);
    assert.ok(logged, 'the start-up log has the certificate\'s SHA-256 fingerprint');
    const health = await httpsRequest(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(health.fingerprint, logged, 'the served certificate is the logged one');
    assert.match(health.subjectaltname, /DNS:localhost/);
    assert.match(health.subjectaltname, /IP Address:127\.0\.0\.1/);

    // Plain HTTP, and junk, to the TLS port: closed without an HTTP answer, counted; the server goes on serving.
    const before = await tlsFailures(server);
    const plain = await sendRaw(server.port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    assert.ok(!plain.includes('HTTP/1.1'), `plain HTTP got an answer: ${plain}`);
    await sendRaw(server.port, Buffer.concat([Buffer.from([0x00]), crypto.randomBytes(511)]));
    assert.equal(await tlsFailures(server), before + 2);
    assert.equal((await httpsRequest(`${server.url}/healthz`)).status, 200);

    await withBrowser({ extraArgs: ['--ignore-certificate-errors'] }, async (browser) => {
      const alice = await sdkPage(browser, server);
      assert.match(alice.url(), /^https:\/\/localhost:\d+\/web\/room\/$/, 'the demo page over https');
      assert.equal((await join(alice, { room: 'https', peer: 'alice' })).peer, 'alice');
      const bob = await sdkPage(browser, server);
      assert.equal((await join(bob, { room: 'https', peer: 'bob' })).peer, 'bob');
      assert.match(await alice.evaluate(() => window.t.room.socket.url), /^wss:\/\/localhost:\d+\//, 'joined over wss');
      await waitDecoding(alice, ['bob'], { minFrames: 60, label: 'alice over https' });
      await waitDecoding(bob, ['alice'], { minFrames: 60, label: 'bob over https' });
    });
    // Chromium's own connections did not fail their handshakes.
    assert.equal(await tlsFailures(server), before + 2);
  }, { cleanExit: true });
});

// An EC P-256 certificate for localhost made by the openssl command, as an operator would.
function makeCertificate(dir, name) {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=localhost/O=atrium test ${name}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const out = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
  return { cert, key, fingerprint: out.trim().split('=')[1] };
}

// A TLS connection kept open across requests (HTTP/1.1 keep-alive).
async function openConnection(port) {
  const socket = await new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false }, () => resolve(s));
    s.once('error', reject);
  });
  return {
    fingerprint: () => socket.getPeerCertificate().fingerprint256,
    get: (target) => new Promise((resolve, reject) => {
      let got = '';
      const onData = (d) => {
        got += d.toString('latin1');
        if (/\r\n\r\n[\s\S]*ok\n$/.test(got) || /^HTTP\/1\.1 [45]/.test(got)) { socket.off('data', onData); resolve(got); }
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error(`closed; got ${got}`)));
      socket.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    }),
    close: () => socket.destroy(),
  };
}

test('--tls-cert: unusable files stop the start; SIGHUP gives new connections the rewritten certificate', { timeout: 60_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-https-'));
  try {
    const a = makeCertificate(dir, 'a');
    const b = makeCertificate(dir, 'b');
    assert.notEqual(a.fingerprint, b.fingerprint);

    const start = (cert, key) => runAtrium(['--http', '127.0.0.1:0', '--rtmp', 'off', '--udp-port', '0', '--tls-cert', cert, '--tls-key', key]);
    const missing = await start(path.join(dir, 'none.pem'), a.key);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, `atrium: cannot read --tls-cert ${path.join(dir, 'none.pem')}: No such file or directory\n`);
    const mismatched = await start(a.cert, b.key);
    assert.equal(mismatched.code, 2);
    assert.match(mismatched.stderr, new RegExp(`^atrium: --tls-key ${b.key} does not match the certificate in --tls-cert ${a.cert} \\([^\\n]*\\)\\n$`));
    const notPem = await start(a.key, a.key);
    assert.equal(notPem.code, 2);
    assert.match(notPem.stderr, /^atrium: --tls-cert \S+ holds no PEM certificate \([^\n]*\)\n$/);

    const cert = path.join(dir, 'server.pem');
    const key = path.join(dir, 'server.key');
    fs.copyFileSync(a.cert, cert);
    fs.copyFileSync(a.key, key);
    await withServer({ name: 'https-reload', args: ['--tls-cert', cert, '--tls-key', key, '--udp-port', '0'] }, async (server) => {
      assert.deepEqual(loggedFingerprints(server), [a.fingerprint]);
      assert.equal((await httpsRequest(`${server.url}/healthz`)).fingerprint, a.fingerprint);
      const live = await openConnection(server.port);
      assert.match(await live.get('/healthz'), /^HTTP\/1\.1 200/);

      // Renewed: new files, SIGHUP.
      fs.copyFileSync(b.cert, cert);
      fs.copyFileSync(b.key, key);
      server.proc.kill('SIGHUP');
      await until(() => fs.readFileSync(server.logFile, 'utf8').includes('reloaded the TLS certificate'), { timeoutMs: 3000, what: 'the reload log line' });
      assert.equal(loggedFingerprints(server).at(-1), b.fingerprint);
      assert.equal((await httpsRequest(`${server.url}/healthz`)).fingerprint, b.fingerprint, 'a new connection gets the new certificate');
      assert.match(await live.get('/healthz'), /^HTTP\/1\.1 200/, 'the open connection still works');
      assert.equal(live.fingerprint(), a.fingerprint);
      live.close();

      // A half-written file: the reload fails, says why, and the certificate served stays.
      fs.writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nMIIB\n');
      server.proc.kill('SIGHUP');
      await until(() => fs.readFileSync(server.logFile, 'utf8').includes('TLS certificate not reloaded'), { timeoutMs: 3000, what: 'the failed reload log line' });
      assert.match(fs.readFileSync(server.logFile, 'utf8'), new RegExp(`TLS certificate not reloaded: --tls-cert ${cert} holds no PEM certificate`));
      assert.equal((await httpsRequest(`${server.url}/healthz`)).fingerprint, b.fingerprint);
    }, { cleanExit: true });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
