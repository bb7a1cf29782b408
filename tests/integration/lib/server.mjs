// Starts the real atrium binary for a test: a free loopback port, output captured to a log file under the build
// dir, ready once /healthz answers; the log's tail is printed when something fails, and the process is always
// killed at the end (test failure, thrown error or the test runner exiting).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const live = new Set(); // processes to kill if the test process ends first

process.on('exit', () => {
  for (const proc of live) proc.kill('SIGKILL');
});

export function atriumBin() {
  const bin = process.env.ATRIUM_BIN;
  if (!bin) throw new Error('ATRIUM_BIN is not set (ctest sets it; by hand: ATRIUM_BIN=build/release/src/server/atrium)');
  if (!fs.existsSync(bin)) throw new Error(`ATRIUM_BIN=${bin} does not exist; build the atrium target first`);
  return bin;
}

export function logDir() {
  const base = process.env.ATRIUM_BUILD_DIR ?? os.tmpdir();
  const dir = path.join(base, 'integration-logs');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// A port nobody listens on right now: bind port 0, read what the kernel picked, release it.
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One HTTPS request on a connection of its own (no agent, so a reloaded certificate is seen at once), accepting
 * any certificate: tests check the certificate themselves, by its fingerprint.
 * @returns {Promise<{status: number, body: string, fingerprint: string, subjectaltname: string}>}
 *   fingerprint: the served certificate's SHA-256 as "AB:CD:..."
 */
export function httpsRequest(url, { method = 'GET', headers = {}, body = null, timeoutMs = 5_000 } = {}) {
  return new Promise((resolve, reject) => {
    const request = https.request(url, { method, headers, agent: false, rejectUnauthorized: false, servername: 'localhost', timeout: timeoutMs }, (response) => {
      const certificate = response.socket.getPeerCertificate();
      let text = '';
      response.setEncoding('utf8').on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode, body: text, fingerprint: certificate.fingerprint256,
        subjectaltname: certificate.subjectaltname ?? '' }));
    });
    request.on('timeout', () => request.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body ?? undefined);
  });
}

function exited(proc) {
  return proc.exitCode !== null || proc.signalCode !== null;
}

// Resolves with {code, signal} once `proc` has exited, or null after `ms`.
export function waitForExit(proc, ms) {
  if (exited(proc)) return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/**
 * Starts atrium and waits until GET /healthz answers 200.
 * @param {object} [options]
 * @param {string[]} [options.args] extra flags (--http is chosen here); with --tls-self-signed or --tls-cert the URLs
 *   are https:// and readiness is checked over TLS (any certificate accepted)
 * @param {number} [options.workers] --workers (default 2)
 * @param {string} [options.name] log file name prefix
 * @param {number} [options.readyTimeoutMs]
 * @param {string} [options.netns] run atrium inside this network namespace (`ip netns exec`, lib/netns.mjs)
 * @param {string[]} [options.wrap] a command that execs atrium, e.g. ['prlimit', '--nofile=256:256', '--']
 * @param {string} [options.http] --http HOST:PORT instead of a free loopback port (e.g. an address of the namespace)
 * @param {(host: string, port: number) => Promise<{url: string, close: () => Promise<void>}>} [options.reach]
 *   makes that HTTP address reachable from this process (a server in a namespace); url replaces server.url
 * @returns {Promise<{url: string, browserUrl: string, port: number, proc: import('node:child_process').ChildProcess,
 *                    logFile: string, tail: (n?: number) => string,
 *                    stop: (opts?: {signal?: string, timeoutMs?: number}) => Promise<{code, signal, ms}>}>}
 */
export async function startServer({ args = [], workers = 2, name = 'atrium', readyTimeoutMs = 10_000, netns = null,
                                   http = null, reach = null, wrap = [] } = {}) {
  const bin = atriumBin();
  const [httpHost, port] = http ? [http.slice(0, http.lastIndexOf(':')), Number(http.slice(http.lastIndexOf(':') + 1))]
                                : ['127.0.0.1', await freePort()];
  // A second server of the same name in one test process (a retried attempt) gets its own file.
  let logFile = path.join(logDir(), `${name}-${process.pid}-${port}.log`);
  for (let n = 2; fs.existsSync(logFile); n++) logFile = path.join(logDir(), `${name}-${process.pid}-${port}-${n}.log`);
  const log = fs.openSync(logFile, 'w');
  // RTMP's default port (1935) would clash between servers running at once: tests that use RTMP ask for it.
  const rtmp = args.some((a) => a === '--rtmp' || a.startsWith('--rtmp=')) ? [] : ['--rtmp', 'off'];
  const sip = args.some((a) => a === '--sip' || a.startsWith('--sip=')) ? [] : ['--sip', 'off'];
  const fullArgs = ['--http', `${httpHost}:${port}`, '--workers', String(workers), ...rtmp, ...sip, ...args];
  fs.writeSync(log, `$ ${netns ? `ip netns exec ${netns} ` : ''}${bin} ${fullArgs.join(' ')}\n`);
  // `ip netns exec` execs the command itself (no fork), so proc's pid is atrium's and signals reach it.
  const proc = netns ? spawn('ip', ['netns', 'exec', netns, bin, ...fullArgs], { stdio: ['ignore', log, log] })
                     : wrap.length ? spawn(wrap[0], [...wrap.slice(1), bin, ...fullArgs], { stdio: ['ignore', log, log] })
                     : spawn(bin, fullArgs, { stdio: ['ignore', log, log] });
  fs.closeSync(log); // the child has its own copy
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  let bridge = null;
  try {
    bridge = reach ? await reach(httpHost, port) : null;
  } catch (error) {
    proc.kill('SIGKILL');
    throw error;
  }
  const tls = args.some((a) => a === '--tls-self-signed' || a === '--tls-cert' || a.startsWith('--tls-cert='));
  const scheme = tls ? 'https' : 'http';
  const url = bridge ? bridge.url : `${scheme}://127.0.0.1:${port}`;

  const server = {
    url,
    // What a page in the harness's chromium must use: its resolver rules only let "localhost" through.
    browserUrl: `${scheme}://localhost:${port}`,
    port,
    proc,
    logFile,
    tail: (lines) => tail(logFile, lines),
    // SIGTERM, then SIGKILL if it is still there after timeoutMs. Resolves with how it ended and how long it took.
    async stop({ signal = 'SIGTERM', timeoutMs = 5_000 } = {}) {
      const started = Date.now();
      if (!exited(proc)) proc.kill(signal);
      let result = await waitForExit(proc, timeoutMs);
      if (!result) {
        proc.kill('SIGKILL');
        result = { ...(await waitForExit(proc, 5_000)), killed: true };
      }
      await bridge?.close();
      return { ...result, ms: Date.now() - started };
    },
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited(proc)) {
      await bridge?.close();
      throw new Error(`atrium exited (code ${proc.exitCode}) before it was ready; log ${logFile}:\n${tail(logFile)}`);
    }
    try {
      const response = tls ? await httpsRequest(`${url}/healthz`) : await fetch(`${url}/healthz`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`atrium did not answer /healthz within ${readyTimeoutMs} ms; log ${logFile}:\n${tail(logFile)}`);
    }
    await sleep(50);
  }
  return server;
}

/**
 * Runs `fn(server)` against a fresh atrium; prints the server log's tail if `fn` throws, and always stops it.
 * cleanExit: the server must then exit with code 0 (SIGTERM handled).
 * Use inside a node:test test: `test('x', () => withServer({}, async (s) => { ... }))`.
 */
export async function withServer(options, fn, { cleanExit = false } = {}) {
  const server = await startServer(options);
  try {
    return await fn(server);
  } catch (error) {
    console.error(`--- atrium log (${server.logFile}), last lines ---\n${server.tail()}\n---`);
    throw error;
  } finally {
    const result = await server.stop();
    if (cleanExit) assert.equal(result.code, 0, `atrium exited with ${JSON.stringify(result)}`);
  }
}

/**
 * Runs atrium to completion (for flags that make it exit) and collects its output.
 * @returns {Promise<{code: number|null, signal: string|null, stdout: string, stderr: string}>}
 */
export function runAtrium(args, { timeoutMs = 10_000 } = {}) {
  const proc = spawn(atriumBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  proc.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`atrium ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(proc);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

