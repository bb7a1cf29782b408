// The atrium binary as an operator and an HTTP client see it: flags, exit codes, built-in routes, limits, CORS
// and shutdown.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

import { freePort, runAtrium, startServer, withServer } from './lib/server.mjs';

const GAUGES = ['atrium_uptime_seconds', 'atrium_workers', 'atrium_rooms', 'atrium_peers', 'atrium_tracks'];

// Sends raw bytes on one connection and collects everything until the server closes it or `ms` pass.
function rawExchange(port, payload, ms = 3_000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (data += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    socket.end(payload); // half-close: the server answers what it read, then closes
  });
}

describe('atrium HTTP API', () => {
  test('GET /healthz answers 200 ok', () =>
    withServer({}, async ({ url }) => {
      const response = await fetch(`${url}/healthz`);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), 'ok\n');
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
    }));

  test('GET /metrics is Prometheus text with the built-in gauges', () =>
    withServer({ workers: 3 }, async ({ url }) => {
      const response = await fetch(`${url}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      for (const name of GAUGES) {
        assert.match(text, new RegExp(`^# HELP ${name} \\S.*$`, 'm'), name);
        assert.match(text, new RegExp(`^# TYPE ${name} gauge$`, 'm'), name);
        assert.match(text, new RegExp(`^${name} [0-9.e+-]+$`, 'm'), name);
      }
      assert.match(text, /^atrium_workers 3$/m);
      assert.match(text, /^atrium_rooms 0$/m);
      assert.ok(text.endsWith('\n'));
    }));

  test('unknown path is 404, wrong method is 405 with Allow, both with CORS headers', () =>
    withServer({}, async ({ url }) => {
      const missing = await fetch(`${url}/no/such/thing`);
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('access-control-allow-origin'), '*');
      assert.equal(missing.headers.get('access-control-expose-headers'), 'Location, Link, ETag');
      const wrong = await fetch(`${url}/healthz`, { method: 'DELETE' });
      assert.equal(wrong.status, 405);
      assert.match(wrong.headers.get('allow'), /GET/);
    }));

  test('OPTIONS preflight gets CORS headers', () =>
    withServer({}, async ({ url }) => {
      const response = await fetch(`${url}/healthz`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'http://example.test',
          'Access-Control-Request-Method': 'GET',
          'Access-Control-Request-Headers': 'authorization, content-type',
        },
      });
      assert.equal(response.status, 204);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      assert.match(response.headers.get('access-control-allow-methods'), /GET/);
      assert.match(response.headers.get('access-control-allow-headers'), /authorization/i);
      assert.equal(response.headers.get('access-control-expose-headers'), 'Location, Link, ETag');
    }));

  test('a body over 64 KiB is refused with 413; 64 KiB is still read', () =>
    withServer({}, async ({ url }) => {
      const big = await fetch(`${url}/healthz`, { method: 'POST', body: 'x'.repeat(64 * 1024 + 1) });
      assert.equal(big.status, 413);
      const limit = await fetch(`${url}/healthz`, { method: 'POST', body: 'x'.repeat(64 * 1024) });
      assert.equal(limit.status, 405); // read and routed: /healthz takes GET only
      assert.equal((await fetch(`${url}/healthz`)).status, 200); // and the server is fine
    }));

  test('keep-alive: two pipelined requests on one connection get two answers', () =>
    withServer({}, async ({ port }) => {
      const request = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
      const data = await rawExchange(port, request + request);
      assert.equal(data.match(/HTTP\/1\.1 200 OK/g)?.length, 2, data);
    }));

  test('garbage is answered 400 and the connection closed', () =>
    withServer({}, async ({ port }) => {
      const data = await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n');
      assert.match(data, /^HTTP\/1\.1 400 /);
    }));
});

describe('atrium process', () => {
  test('--version prints the version and exits 0', async () => {
    const { code, stdout } = await runAtrium(['--version']);
    assert.equal(code, 0);
    assert.match(stdout, /^atrium \d+\.\d+\.\d+\n$/);
  });

  test('a bad flag exits 2 with one line on stderr', async () => {
    const { code, stdout, stderr } = await runAtrium(['--no-such-flag']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /^atrium: [^\n]*--no-such-flag[^\n]*\n$/);
  });

  test('a bad value exits 2 with one line on stderr', async () => {
    const { code, stderr } = await runAtrium(['--workers', 'lots']);
    assert.equal(code, 2);
    assert.match(stderr, /^atrium: [^\n]*\n$/);
  });

  test('a bad config file exits 2 with one line on stderr', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-config-'));
    try {
      const file = path.join(dir, 'atrium.json');
      fs.writeFileSync(file, '{"workers": 2, "htp": "127.0.0.1:1"}');
      const { code, stderr } = await runAtrium(['--config', file]);
      assert.equal(code, 2);
      assert.match(stderr, /^atrium: [^\n]*"htp"[^\n]*\n$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a busy port exits 2 with "Address already in use"', async () => {
    const port = await freePort();
    const squatter = net.createServer();
    await new Promise((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const { code, stderr } = await runAtrium(['--http', `127.0.0.1:${port}`, '--workers', '1']);
      assert.equal(code, 2);
      assert.equal(stderr, `atrium: cannot listen on 127.0.0.1:${port}: Address already in use\n`);
    } finally {
      squatter.close();
    }
  });

  test('logs where it listens', () =>
    withServer({ workers: 2 }, async ({ port, logFile }) => {
      assert.match(fs.readFileSync(logFile, 'utf8'), new RegExp(`listening on http://127\\.0\\.0\\.1:${port} \\(2 workers\\)`));
    }));

  for (const signal of ['SIGTERM', 'SIGINT']) {
    test(`${signal} exits 0 within 2 s, even with an open connection`, async () => {
      const server = await startServer({ workers: 2 });
      const idle = net.connect(server.port, '127.0.0.1'); // a keep-alive client that never sends
      idle.on('error', () => {});
      try {
        await new Promise((resolve) => idle.once('connect', resolve));
        const { code, signal: bySignal, ms, killed } = await server.stop({ signal, timeoutMs: 2_000 });
        assert.ok(!killed, `atrium did not exit on ${signal}:\n${server.tail()}`);
        assert.equal(bySignal, null);
        assert.equal(code, 0, server.tail());
        assert.ok(ms < 2_000, `took ${ms} ms`);
        assert.match(fs.readFileSync(server.logFile, 'utf8'), /atrium: shutting down/);
      } finally {
        idle.destroy();
        await server.stop();
      }
    });
  }
});
