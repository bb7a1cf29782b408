// Network namespaces for tests that need a real link between the server and its clients: limited capacity (tc tbf)
// and random loss (nftables), which loopback cannot give. Everything lives in namespaces this process creates; the
// host's own interfaces, routes and firewall are never touched.
//
//   srv  (atrium, service address 10.99.0.1/32 on lo)
//    |- to-pub  10.77.1.1/30  <veth>  eth0 10.77.1.2/30  pub   (publisher chromium)
//    |- to-sub1 10.77.2.1/30  <veth>  eth0 10.77.2.2/30  sub1  (viewer chromium)
//    `- to-sub2 10.77.3.1/30  <veth>  eth0 10.77.3.2/30  sub2  (viewer chromium)
//
// Names are `atnet-<pid>-<n>-<role>`, so parallel runs do not collide, and namespaces of a run that was killed (its
// pid is gone) are removed by the next createTopology(). The kernel here has no netem: capacity is a tbf qdisc on
// the egress of srv's veth towards a client, loss an nftables rule on the client's input hook (an output-hook drop
// makes the sender's sendto() fail with EPERM, which is not what a lossy link does).
//
// How the pieces reach each other (chromium's --host-resolver-rules only let "localhost" through, and getUserMedia
// needs a secure context, i.e. http://localhost):
// - atrium runs in srv (`ip netns exec`), HTTP on 10.99.0.1:8080, media bound to 10.99.0.1 (UDP 40000 + worker), so
//   the candidates it advertises and the source address of what it sends are that one address;
// - each client namespace gets a forward 127.0.0.1:<port> -> 10.99.0.1:8080 (lib/nsforward.mjs), so its chromium
//   loads pages from http://localhost:<port>/web/... and talks WHIP/WHEP to the same origin over its veth;
// - this process reaches the HTTP API (e.g. /metrics) through a unix socket forward in srv, bridged to a TCP port
//   on this process's loopback: server.url works with lib/measure.mjs as for any other server;
// - the server's --web-root is a temp folder with the repo's web/ folders plus test/ = tests/integration/pages.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import puppeteer from 'puppeteer-core';

import { launchBrowser } from './browser.mjs';
import { FIREFOX_PATH, FIREFOX_PREFS, FIREFOX_STARTUP_PREFS, userJs, wrapFirefox } from './firefox.mjs';
import { forward } from './nsforward.mjs';
import { startServer } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const PREFIX = 'atnet-';
export const SERVICE_IP = '10.99.0.1';
export const HTTP_PORT = 8080;
export const UDP_PORT = 40000;

// ip, tc and nft live in /usr/sbin on Debian, which a non-login PATH may lack; the children (atrium, the chromium
// wrapper) start through `ip` too.
for (const dir of ['/usr/sbin', '/sbin']) {
  if (!(process.env.PATH ?? '').split(':').includes(dir)) process.env.PATH = `${process.env.PATH ?? ''}:${dir}`;
}

function run(cmd, args, { input, allowFail = false } = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    if (allowFail) return null;
    throw new Error(`${cmd} ${args.join(' ')} failed: ${error.stderr || error.message}`);
  }
}

function hasCommand(name) {
  return run('sh', ['-c', `command -v ${name}`], { allowFail: true }) !== null;
}

/** Why namespace tests cannot run here (a reason for t.skip), or null when they can: root, ip, tc and nft. */
export function netnsUnsupported() {
  if (process.getuid?.() !== 0) return 'network namespace tests need root (ip netns, tc, nft)';
  const missing = ['ip', 'tc', 'nft'].filter((c) => !hasCommand(c));
  if (missing.length) return `missing ${missing.join(', ')} (Debian: iproute2, nftables; scripts/deps.sh test)`;
  return null;
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function listNetns() {
  return (run('ip', ['netns', 'list'], { allowFail: true }) ?? '').split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
}

// Kills what still runs inside `ns`, then deletes it (its veth ends go with it, and so do their peers).
function deleteNetns(ns) {
  const pids = (run('ip', ['netns', 'pids', ns], { allowFail: true }) ?? '').split('\n').filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  run('ip', ['netns', 'del', ns], { allowFail: true });
}

/** Removes namespaces and temp folders left by runs whose process is gone (killed before destroy()). */
export function cleanStale() {
  for (const ns of listNetns()) {
    const m = ns.match(/^atnet-(\d+)-/);
    if (m && !pidAlive(Number(m[1]))) deleteNetns(ns);
  }
  for (const entry of fs.readdirSync(os.tmpdir())) {
    const m = entry.match(/^atnet-(\d+)-/);
    if (m && !pidAlive(Number(m[1]))) fs.rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
  }
}

/**
 * Caps what `dev` in `ns` sends to `rateKbit` kbit/s (tbf on its egress; replaces an earlier cap).
 * burst: the bucket (tc size, e.g. '20kb' = 20 KiB); latency: how long a packet may wait before tbf drops it.
 */
export function capLink(ns, dev, rateKbit, { burst = '20kb', latency = '200ms' } = {}) {
  run('tc', ['-n', ns, 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${rateKbit}kbit`, 'burst', burst,
    'latency', latency]);
}

/** Removes the cap of capLink (no-op when there is none). */
export function uncapLink(ns, dev) {
  run('tc', ['-n', ns, 'qdisc', 'del', 'dev', dev, 'root'], { allowFail: true });
}

/**
 * Drops `percent` % of the UDP packets that arrive in `ns` (random, independent), on the input hook of an nftables
 * table `inet atrium_loss` in that namespace; replaces an earlier rule. `match` narrows it: a number (UDP
 * destination port, as in `udp dport P`) or {sport, dport} with ports or ranges ('40000-40001'); default all UDP.
 */
export function addLoss(ns, percent, match = {}) {
  const { sport, dport } = typeof match === 'number' ? { dport: match } : match;
  removeLoss(ns);
  const cond = [];
  if (sport !== undefined) cond.push(`udp sport ${sport}`);
  if (dport !== undefined) cond.push(`udp dport ${dport}`);
  if (!cond.length) cond.push('meta l4proto udp');
  const rules = [
    'table inet atrium_loss {',
    '  chain inp {',
    '    type filter hook input priority 0; policy accept;',
    `    ${cond.join(' ')} numgen random mod 100 < ${Math.round(percent)} counter drop`,
    '  }',
    '}',
  ].join('\n');
  run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: `${rules}\n` });
}

/** How many packets the loss rule of `ns` has dropped so far (0 without one). */
export function lossDropped(ns) {
  const out = run('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'atrium_loss'], { allowFail: true });
  return Number(out?.match(/counter packets (\d+)/)?.[1] ?? 0);
}

/** Removes the loss rule of addLoss (no-op when there is none). */
export function removeLoss(ns) {
  run('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'atrium_loss'], { allowFail: true });
}

// Starts `ip netns exec ns node nsforward.mjs LISTEN CONNECT` and resolves with {proc, address} once it listens.
function startForward(ns, listen, connect) {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, path.join(here, 'nsforward.mjs'), listen, connect], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (c) => (err += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`nsforward in ${ns} did not start: ${err}`));
    }, 10_000);
    proc.stdout.setEncoding('utf8').on('data', (c) => {
      out += c;
      const m = out.match(/listening (\S+)\n/);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, address: m[1] });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nsforward in ${ns} exited (${code}): ${err}`));
    });
  });
}

const liveTopologies = new Set();
process.on('exit', () => {
  for (const topo of liveTopologies) topo.destroySync();
});

let counter = 0;

/**
 * Creates srv plus one namespace per client role, each joined to srv by its own veth pair (see the top of this file).
 * @param {object} [options]
 * @param {string[]} [options.clients] client roles (namespace suffixes, at most 12 characters)
 * @returns {Promise<Topology>} call destroy() when done (also on failure: t.after(() => topo.destroy()))
 */
export async function createTopology({ clients = ['pub', 'sub1', 'sub2'] } = {}) {
  cleanStale();
  const id = `${PREFIX}${process.pid}-${++counter}`;
  const tmp = path.join(os.tmpdir(), id);
  const topo = new Topology(id, tmp, clients);
  liveTopologies.add(topo);
  try {
    topo.setUp();
  } catch (error) {
    topo.destroySync();
    throw error;
  }
  return topo;
}

export class Topology {
  constructor(id, tmp, clients) {
    this.id = id;
    this.tmp = tmp;
    this.clients = clients;
    this.srv = `${id}-srv`;
    this.serviceIp = SERVICE_IP;
    this.httpPort = HTTP_PORT;
    this.udpPort = UDP_PORT;
    this.procs = new Set(); // forwards
    this.closers = []; // async cleanups (browsers, bridges, servers), run first by destroy()
    this.created = [];
  }

  /** The namespace name of a role ('srv', 'pub', 'sub1', ...). */
  ns(role) {
    if (role !== 'srv' && !this.clients.includes(role)) throw new Error(`no role ${role} in ${this.clients}`);
    return `${this.id}-${role}`;
  }

  /** The client's address on its veth. */
  clientIp(role) {
    return `10.77.${this.clients.indexOf(role) + 1}.2`;
  }

  /** {ns, dev} of srv's veth end towards a client: where capLink shapes what that client receives. */
  serverLink(role) {
    this.ns(role);
    return { ns: this.srv, dev: `to-${role}` };
  }

  setUp() {
    fs.mkdirSync(this.tmp, { recursive: true });
    for (const role of ['srv', ...this.clients]) {
      run('ip', ['netns', 'add', this.ns(role)]);
      this.created.push(this.ns(role));
      run('ip', ['-n', this.ns(role), 'link', 'set', 'lo', 'up']);
    }
    run('ip', ['-n', this.srv, 'addr', 'add', `${SERVICE_IP}/32`, 'dev', 'lo']);
    this.clients.forEach((role, i) => {
      const net = `10.77.${i + 1}`;
      const dev = `to-${role}`;
      const ns = this.ns(role);
      // Created inside srv with its peer moved straight into the client: nothing appears in the host's namespace.
      run('ip', ['-n', this.srv, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      run('ip', ['-n', this.srv, 'addr', 'add', `${net}.1/30`, 'dev', dev]);
      run('ip', ['-n', ns, 'addr', 'add', `${net}.2/30`, 'dev', 'eth0']);
      run('ip', ['-n', this.srv, 'link', 'set', dev, 'up']);
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      run('ip', ['-n', ns, 'route', 'add', `${SERVICE_IP}/32`, 'via', `${net}.1`]);
    });
    // The server's web root: a copy of the repo's web/ plus test/ = tests/integration/pages. Copies, not
    // symlinks: the server never serves a symlink (docs/security.md).
    const web = path.join(this.tmp, 'web');
    fs.cpSync(path.join(repoRoot, 'web'), web, { recursive: true });
    fs.cpSync(path.join(repoRoot, 'tests/integration/pages'), path.join(web, 'test'), { recursive: true });
    this.webRoot = web;
  }

  /**
   * Starts atrium in srv (lib/server.mjs startServer): HTTP on SERVICE_IP:8080, media bound to SERVICE_IP on
   * UDP 40000 + worker; server.url reaches its HTTP API from this process. Stopped by destroy() at the latest.
   */
  async startServer({ workers = 2, args = [], name = 'atrium-netns', ...rest } = {}) {
    const server = await startServer({
      ...rest,
      name,
      workers,
      netns: this.srv,
      http: `${SERVICE_IP}:${HTTP_PORT}`,
      args: ['--bind', SERVICE_IP, '--udp-port', String(UDP_PORT), '--web-root', this.webRoot, ...args],
      reach: (host, port) => this.reach(host, port),
    });
    this.server = server;
    this.closers.push(() => server.stop());
    return server;
  }

  /** {url, close}: a TCP port on this process's loopback forwarded to host:port inside srv (via a unix socket). */
  async reach(host, port) {
    const sock = path.join(this.tmp, `srv-${host}-${port}.sock`);
    const { proc } = await startForward(this.srv, `unix:${sock}`, `tcp:${host}:${port}`);
    this.procs.add(proc);
    const bridge = await forward({ host: '127.0.0.1', port: 0 }, { path: sock });
    bridge.unref(); // never what keeps the test process alive
    const close = async () => {
      await new Promise((resolve) => bridge.close(() => resolve()));
      proc.kill('SIGTERM');
    };
    return { url: `http://127.0.0.1:${bridge.address().port}`, close };
  }

  /**
   * An http://localhost:<port> origin inside a client namespace that forwards to the server's HTTP API (pages,
   * WHIP, WHEP): what that client's chromium must load. Resolves with the origin URL (one forward per role).
   */
  async origin(role) {
    this.origins ??= {};
    if (!this.origins[role]) {
      const { proc, address } = await startForward(this.ns(role), 'tcp:127.0.0.1:0', `tcp:${SERVICE_IP}:${HTTP_PORT}`);
      this.procs.add(proc);
      this.origins[role] = `http://localhost:${address}`;
    }
    return this.origins[role];
  }

  /** lib/browser.mjs launchBrowser inside a client's namespace; closed by destroy() at the latest. */
  async launchBrowser(role, options = {}) {
    // Profile and wrapper in this topology's temp folder: a killed run's are removed with it by cleanStale().
    const browser = await launchBrowser({ tmpDir: this.tmp, ...options, netns: this.ns(role) });
    this.closers.push(() => browser.close());
    return browser;
  }

  /**
   * lib/firefox.mjs's Firefox inside a client's namespace. Puppeteer cannot launch it there (it connects to the
   * WebDriver BiDi port Firefox opens on its own loopback, which is the namespace's), so Firefox is started here
   * through `ip netns exec`, and its BiDi port is joined to this namespace by a unix socket (nsforward inside,
   * a TCP listener outside). Closed by destroy() at the latest.
   */
  async launchFirefox(role, { timeoutMs = 60_000 } = {}) {
    const profile = fs.mkdtempSync(path.join(this.tmp, `firefox-${role}-`));
    fs.writeFileSync(path.join(profile, 'user.js'), userJs({ ...FIREFOX_STARTUP_PREFS, ...FIREFOX_PREFS }));
    const proc = spawn('ip', ['netns', 'exec', this.ns(role), FIREFOX_PATH, '--headless', '--no-remote', '--profile', profile,
      '--remote-debugging-port', '0', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.procs.add(proc);
    let err = '';
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`firefox in ${this.ns(role)} did not open its BiDi port: ${err.slice(-2000)}`)), timeoutMs);
      proc.stderr.setEncoding('utf8').on('data', (c) => {
        err += c;
        const m = err.match(/WebDriver BiDi listening on ws:\/\/127\.0\.0\.1:(\d+)/);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`firefox in ${this.ns(role)} exited (${code}): ${err.slice(-2000)}`));
      });
    });
    const sock = path.join(this.tmp, `firefox-${role}.sock`);
    const inside = await startForward(this.ns(role), `unix:${sock}`, `tcp:127.0.0.1:${port}`);
    this.procs.add(inside.proc);
    const outside = await forward({ host: '127.0.0.1', port: 0 }, { path: sock });
    const browser = await puppeteer.connect({
      browserWSEndpoint: `ws://127.0.0.1:${outside.address().port}/session`,
      protocol: 'webDriverBiDi',
      // Firefox refuses a WebSocket upgrade whose Host names another port (400): say the one it listens on.
      headers: { Host: `127.0.0.1:${port}` },
      protocolTimeout: timeoutMs,
    });
    const firefox = wrapFirefox(browser, async () => {
      outside.close();
      proc.kill('SIGKILL');
    });
    this.closers.push(() => firefox.close());
    return firefox;
  }

  /** {ns, dev} of the client's own veth end: where capLink shapes what that client sends (its uplink). */
  clientLink(role) {
    return { ns: this.ns(role), dev: 'eth0' };
  }

  /**
   * Caps what `role` receives from the server (egress of srv's veth towards it), or with {up: true} what it sends
   * (egress of its own veth: a publisher's uplink). Other options go to capLink (burst, latency).
   */
  capLink(role, rateKbit, { up = false, ...options } = {}) {
    const { ns, dev } = up ? this.clientLink(role) : this.serverLink(role);
    capLink(ns, dev, rateKbit, options);
  }

  uncapLink(role, { up = false } = {}) {
    const { ns, dev } = up ? this.clientLink(role) : this.serverLink(role);
    uncapLink(ns, dev);
  }

  /** Drops `percent` % of the media `role` receives from the server (default: UDP from the server's ports). */
  addLoss(role, percent, match = { sport: `${UDP_PORT}-${UDP_PORT + 63}` }) {
    addLoss(this.ns(role), percent, match);
  }

  removeLoss(role) {
    removeLoss(this.ns(role));
  }

  lossDropped(role) {
    return lossDropped(this.ns(role));
  }

  /** Closes browsers, stops the server and forwards, deletes the namespaces and the temp folder. Idempotent. */
  async destroy() {
    const closers = this.closers.splice(0).reverse();
    for (const close of closers) {
      try {
        await close();
      } catch {
        // best effort: the namespaces go anyway
      }
    }
    this.destroySync();
  }

  // What can be done synchronously (also from process.on('exit')): kill forwards and whatever still runs in the
  // namespaces, delete them and the temp folder.
  destroySync() {
    for (const proc of this.procs) proc.kill('SIGKILL');
    this.procs.clear();
    for (const ns of this.created.splice(0).reverse()) deleteNetns(ns);
    fs.rmSync(this.tmp, { recursive: true, force: true });
    liveTopologies.delete(this);
  }
}
