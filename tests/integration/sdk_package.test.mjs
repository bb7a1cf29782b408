// The room SDK as an application gets it: `npm pack` of the built package (<build>/web/sdk-package, made by the
// atrium_web_sdk target), installed offline into a throwaway app, which imports it by its package name ('@atrium/sdk',
// resolved through the package's own "exports" into an import map) on a page of its own origin. The README's
// example type-checks against the installed atrium.d.ts; in Chromium the app joins a room on atrium and decodes
// what another page publishes; atrium's /metrics then counts the app's time to first video.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { withBrowser } from './lib/browser.mjs';
import { metric } from './lib/measure.mjs';
import { join, sdkPage, until, waitDecoding } from './lib/sdk.mjs';
import { withServer } from './lib/server.mjs';
import { serveStatic } from './lib/static.mjs';

const run = promisify(execFile);

function packageDir() {
  const build = process.env.ATRIUM_BUILD_DIR;
  if (!build) throw new Error('ATRIUM_BUILD_DIR is not set (ctest sets it; by hand: ATRIUM_BUILD_DIR=build/release)');
  return path.join(build, 'web', 'sdk-package');
}

// npm with a cache of the test's own and nothing that could reach a registry.
const npm = (args, cwd, tmp) =>
  run('npm', [...args, '--offline', '--no-audit', '--no-fund', '--cache', path.join(tmp, 'npm-cache')],
    { cwd, timeout: 60_000, env: { ...process.env, npm_config_update_notifier: 'false' } });

// The app: connects to the server named in its URL, attaches every track it sees, keeps what happened in window.t
// (the shape lib/sdk.mjs's helpers read).
const APP_JS = `import { connect } from '@atrium/sdk';

const q = new URLSearchParams(location.search);
const t = { events: [], errors: [] };
window.t = t;
t.ready = (async () => {
  const room = await connect(q.get('server'), { room: q.get('room'), peer: q.get('peer'), meta: { name: 'app' } });
  t.room = room;
  for (const name of ['peer_joined', 'peer_left', 'track_published', 'track_unpublished', 'receiver_state', 'closed'])
    room.on(name, (e) => t.events.push({ at: Date.now(), event: name, ...e }));
  const show = async ({ peer, track, kind }) => {
    try {
      const media = await room.subscribe(peer, track);
      if (kind === 'video') document.querySelector('video').srcObject = new MediaStream([media]);
    } catch (e) {
      t.errors.push(peer + '/' + track + ': ' + e.code);
    }
  };
  room.tracks.forEach(show);
  room.on('track_published', show);
  return room.peerId;
})();
`;

test('the SDK packed with npm, installed offline into an app, joins a room and decodes video', { timeout: 120_000 }, async () => {
  const pkg = packageDir();
  await fs.access(path.join(pkg, 'package.json')).catch(() => {
    throw new Error(`${pkg} has no package.json: build the atrium_web_sdk target first`);
  });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'atrium-sdk-package-'));
  try {
    // The tarball, and what is in it.
    const packed = JSON.parse((await npm(['pack', pkg, '--pack-destination', tmp, '--json'], tmp, tmp)).stdout)[0];
    assert.equal(packed.name, '@atrium/sdk');
    const files = packed.files.map((f) => f.path).sort();
    assert.deepEqual(files, ['README.md', 'atrium.d.ts', 'atrium.js', 'atrium.js.map', 'package.json'], JSON.stringify(files));
    const tarball = path.join(tmp, packed.filename);
    const dts = (await run('tar', ['-xzOf', tarball, 'package/atrium.d.ts'])).stdout;
    assert.match(dts, /export declare function connect\(url: string, options: ConnectOptions\): Promise<Room>;/);
    assert.match(dts, /export declare class Room\b/);

    // A throwaway app that depends on the tarball and nothing else.
    const app = path.join(tmp, 'app');
    await fs.mkdir(app);
    await fs.writeFile(path.join(app, 'package.json'), JSON.stringify({
      name: 'atrium-sdk-test-app', private: true, type: 'module',
      dependencies: { '@atrium/sdk': `file:../${packed.filename}` },
    }, null, 2));
    await npm(['install'], app, tmp);
    const installed = path.join(app, 'node_modules', '@atrium', 'sdk');
    const manifest = JSON.parse(await fs.readFile(path.join(installed, 'package.json'), 'utf8'));
    assert.equal(manifest.version, packed.version);
    const entry = manifest.exports['.'].import;
    await fs.access(path.join(installed, entry));
    await fs.access(path.join(installed, manifest.types));

    // The README's example compiles against the installed types (its calls, options and events exist).
    const readme = await fs.readFile(path.join(installed, 'README.md'), 'utf8');
    const example = readme.match(/```js\n([\s\S]*?)```/)?.[1];
    assert.ok(example?.includes("from '@atrium/sdk'"), 'the README has no example importing @atrium/sdk');
    await fs.writeFile(path.join(app, 'example.ts'), `export {};\n${example}`);
    await run('tsc', ['--noEmit', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022',
      '--lib', 'es2022,dom,dom.iterable', 'example.ts'], { cwd: app, timeout: 60_000 })
      .catch((e) => assert.fail(`the README example does not type-check:\n${e.stdout}${e.stderr}`));

    // The page: the package imported by its name, resolved as a bundler would (its "exports").
    const imports = { '@atrium/sdk': `/node_modules/@atrium/sdk/${entry.replace(/^\.\//, '')}` };
    await fs.writeFile(path.join(app, 'app.js'), APP_JS);
    await fs.writeFile(path.join(app, 'index.html'), `<!doctype html>
<meta charset="utf-8"><title>atrium sdk app</title>
<script type="importmap">${JSON.stringify({ imports })}</script>
<video autoplay muted playsinline></video>
<script type="module" src="/app.js"></script>
`);
    const site = await serveStatic(app);
    try {
      await withServer({ name: 'sdk-package', args: ['--bind', '127.0.0.1', '--udp-port', '0'] }, async (server) => {
        await withBrowser({}, async (browser) => {
          const room = 'sdk-package';
          const publisher = await sdkPage(browser, server); // the server's own /web/sdk build
          const published = await join(publisher, { room, peer: 'pub', subscribeAll: false });
          assert.equal(published.peer, 'pub', JSON.stringify(published));

          const page = await browser.newPage();
          page.on('console', (m) => { if (m.type() === 'error') console.log(`[app] ${m.text()}`); });
          const q = new URLSearchParams({ server: server.browserUrl, room, peer: 'app' });
          await page.goto(`${site.url}/?${q}`);
          const peer = await page.evaluate(() => window.t.ready);
          assert.equal(peer, 'app');
          // The module came from the installed package, not from the server.
          const loaded = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name));
          assert.ok(loaded.some((u) => u.startsWith(site.url) && u.endsWith('/node_modules/@atrium/sdk/atrium.js')), JSON.stringify(loaded));

          await waitDecoding(page, ['pub'], { label: 'the app' });
          assert.deepEqual(await page.evaluate(() => window.t.errors), []);

          // The app's session sent its first video packet: the histogram counted it.
          await until(async () => (await metric(server, 'atrium_viewer_first_video_seconds_count')) >= 1,
            { timeoutMs: 3000, what: 'atrium_viewer_first_video_seconds_count >= 1' });

          // Leaving: the publisher sees the app go.
          await page.evaluate(() => window.t.room.leave());
          await until(() => publisher.evaluate(() => window.t.events.some((e) => e.event === 'peer_left' && e.peer === 'app')),
            { timeoutMs: 3000, what: 'the publisher sees the app leave' });
        });
      });
    } finally {
      await site.close();
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
