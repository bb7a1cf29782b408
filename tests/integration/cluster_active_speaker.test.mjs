// Active speakers across two nodes: Ann (a loud fake microphone) joins through the SDK on node 1, Ben (near
// silence) on node 2, on one real nats-server. Neither subscribes to the other's media, so no audio packet
// crosses NATS: Ben's page can name Ann only from the level summaries node 1 sends on the room's level subject
// (closed 100 ms bins, every 200 ms). Asserts both pages name Ann within 3 s of the later join, and that no
// media was relayed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { launchBrowser } from './lib/browser.mjs';
import { metric } from './lib/measure.mjs';
import { Nats } from './lib/nats.mjs';
import { join, sdkPage, sleep } from './lib/sdk.mjs';
import { freePort, startServer } from './lib/server.mjs';
import { writeWav } from './lib/wav.mjs';

test('a speaker on node 1 is named on a page connected to node 2', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-cluster-speaker-'));
  const loud = path.join(dir, 'loud.wav');
  const quiet = path.join(dir, 'quiet.wav');
  writeWav(loud, 60, () => true);
  writeWav(quiet, 60, () => false);
  const nats = new Nats(await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-nats-')));
  const cleanup = [];
  try {
    await nats.start();
    const args = (id) => ['--bind', '127.0.0.1', '--udp-port', '0', '--cluster', nats.url, '--node-id', id];
    const node1 = await startServer({ name: 'cluster-speaker-n1', args: args('n1'), workers: 1 });
    cleanup.push(() => node1.stop());
    const node2 = await startServer({ name: 'cluster-speaker-n2', args: args('n2'), workers: 1 });
    cleanup.push(() => node2.stop());
    const pages = [];
    for (const [name, wav, node] of [['ann', loud, node1], ['ben', quiet, node2]]) {
      const browser = await launchBrowser({ extraArgs: [`--use-file-for-fake-audio-capture=${wav}`] });
      cleanup.push(() => browser.close());
      const page = await sdkPage(browser, node);
      const r = await join(page, { room: 'cluster-speakers', peer: name, subscribeAll: false });
      assert.ok(!r.error, `${name}: ${r.error}`);
      pages.push(page);
    }
    const joined = Date.now();
    const first = (page) => page.evaluate(() => window.t.room.activeSpeakers);
    let lists = [];
    let at = null;
    while (Date.now() - joined < 6000) {
      lists = await Promise.all(pages.map(first));
      if (lists.every((l) => l[0]?.peer === 'ann')) {
        at = Date.now() - joined;
        break;
      }
      await sleep(50);
    }
    console.log(`ann named on both nodes ${at} ms after ben joined on node 2; lists: ${JSON.stringify(lists)}`);
    assert.ok(at !== null && at <= 3000, `lists after 6 s: ${JSON.stringify(lists)}`);
    assert.equal(await metric(node1, 'atrium_cluster_relayed_out_total'), 0, 'no media crossed NATS');
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    await nats.stop();
    fs.rmSync(nats.dir, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
