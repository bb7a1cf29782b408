// Two atrium nodes on one real nats-server (JetStream): a browser publishes with WHIP to node 1 and another watches
// with WHEP on node 2; media survives a NATS restart; a node killed with SIGKILL disappears from the room.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { withBrowser } from './lib/browser.mjs';
import { freePort, startServer, waitForExit } from './lib/server.mjs';
import { metric } from './lib/measure.mjs';
import { Nats } from './lib/nats.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let nats;
let node1;
let node2;

before(async () => {
  nats = new Nats(await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-nats-')));
  await nats.start();
  const args = (id) => ['--bind', '127.0.0.1', '--udp-port', '0', '--cluster', nats.url, '--node-id', id];
  node1 = await startServer({ name: 'cluster-n1', args: args('n1'), workers: 1 });
  node2 = await startServer({ name: 'cluster-n2', args: args('n2'), workers: 1 });
});

after(async () => {
  await node2?.stop();
  await node1?.stop();
  await nats?.stop();
  fs.rmSync(nats.dir, { recursive: true, force: true });
});

async function openPage(browser, server) {
  const page = await browser.newPage();
  await page.goto(`${server.browserUrl}/web/whip/`);
  await page.waitForFunction(() => window.atrium !== undefined);
  return page;
}
const framesDecoded = async (page) => (await page.evaluate(() => window.atrium.inboundStats(window.view.pc))).video?.framesDecoded ?? 0;

async function waitFrames(page, atLeast, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const f = await framesDecoded(page);
    if (f >= atLeast) return f;
    assert.ok(Date.now() < deadline, `${what}: ${f} frames decoded, wanted ${atLeast}`);
    await sleep(250);
  }
}

test('a node that cannot reach NATS says so in one line and exits 2', async () => {
  const { atriumBin } = await import('./lib/server.mjs');
  const port = await freePort();
  const proc = spawn(atriumBin(), ['--http', `127.0.0.1:${await freePort()}`, '--cluster', `nats://127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const r = await waitForExit(proc, 10_000);
  assert.equal(r?.code, 2, `exit ${JSON.stringify(r)}; stderr: ${err}`);
  assert.match(err, /NATS/);
  assert.equal(err.trim().split('\n').filter((l) => l.startsWith('atrium:')).length, 1, err);
});

test('WHIP on node 1, WHEP on node 1 and node 2; NATS restart; node 1 killed', async () => {
  await withBrowser({}, async (browser) => {
    const pub = await openPage(browser, node1);
    await pub.evaluate(async () => { window.pub = await window.atrium.publish({ room: 'lobby', peer: 'alice', codec: 'VP8' }); });

    // A viewer on the publisher's node: fed locally, nothing through NATS.
    const local = await openPage(browser, node1);
    await local.evaluate(async () => { window.view = await window.atrium.watch({ room: 'lobby' }); });
    await waitFrames(local, 30, 15_000, 'viewer on node 1');
    assert.equal(await metric(node1, 'atrium_cluster_relayed_out_total'), 0, 'a same-node viewer must not use NATS');

    // A viewer on node 2: the room's directory and the media come through NATS.
    const remote = await openPage(browser, node2);
    await remote.evaluate(async () => { window.view = await window.atrium.watch({ room: 'lobby' }); });
    await waitFrames(remote, 60, 15_000, 'viewer on node 2');
    assert.ok(await metric(node1, 'atrium_cluster_relayed_out_total') > 0);
    assert.ok(await metric(node2, 'atrium_cluster_relayed_in_total') > 0);

    // NATS restarts mid-stream: frames rise again on node 2 within 10 s, nobody reconnects.
    await nats.stop();
    await sleep(1000);
    const during = await framesDecoded(remote);
    await nats.start();
    await waitFrames(remote, during + 30, 10_000, 'node 2 after the NATS restart');

    // Node 1 dies without a word: within 10 s node 2 forgets its entries and its viewer's video stops.
    const entriesBefore = await metric(node2, 'atrium_cluster_directory_entries');
    node1.proc.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    for (;;) {
      const entries = await metric(node2, 'atrium_cluster_directory_entries');
      if (entries < entriesBefore - 1) break; // alice's peer and tracks, and node 1's viewer, are gone
      assert.ok(Date.now() < deadline, `node 2 still holds ${entries} directory entries (was ${entriesBefore})`);
      await sleep(250);
    }
    await sleep(1000);
    const a = await framesDecoded(remote);
    await sleep(1500);
    assert.equal(await framesDecoded(remote), a, 'video still decodes on node 2 after node 1 died');
    assert.equal(await metric(node2, 'atrium_webrtc_sessions'), 1);
  });
});
