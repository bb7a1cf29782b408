// The room demo page (what `atrium run` serves at /) with three participants, each joining through the form as a
// person would. Every page must show three tiles that render video (non-black pixels in each <video>), each with
// the participant's name; a screenshot is kept as a build artifact: ${ATRIUM_BUILD_DIR}/artifacts/demo-room.png.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { withBrowser } from './lib/browser.mjs';
import { sleep } from './lib/sdk.mjs';
import { withServer } from './lib/server.mjs';

// Per tile: its label, the video's size, and the share of bright pixels in a frame drawn to a canvas.
const tileStats = (page) => page.evaluate(() => [...document.querySelectorAll('#tiles .tile')].map((tile) => {
  const video = tile.querySelector('video');
  const canvas = document.createElement('canvas');
  canvas.width = 160;
  canvas.height = 120;
  const g = canvas.getContext('2d');
  let bright = 0;
  if (video.videoWidth > 0) {
    g.drawImage(video, 0, 0, canvas.width, canvas.height);
    const d = g.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 90) bright += 1;
  }
  return { label: tile.querySelector('.name').textContent, width: video.videoWidth, bright: bright / (canvas.width * canvas.height) };
}));

test('demo room page: three participants see three video tiles each (screenshot artifact)', { timeout: 120_000 }, async () => {
  const artifacts = path.join(process.env.ATRIUM_BUILD_DIR ?? os.tmpdir(), 'artifacts');
  fs.mkdirSync(artifacts, { recursive: true });
  const shot = path.join(artifacts, 'demo-room.png');
  await withServer({ name: 'sdk-demo', args: ['--bind', '127.0.0.1', '--udp-port', '0'] }, async (server) => {
    await withBrowser({}, async (browser) => {
      const people = ['Ann', 'Ben', 'Cat'];
      const pages = [];
      for (const name of people) {
        const page = await browser.newPage();
        await page.setViewportSize({ width: 1280, height: 720 });
        await page.goto(`${server.browserUrl}/`);
        assert.match(page.url(), /\/web\/room\/$/, 'GET / leads to the room demo');
        await page.fill('#room', 'screenshot');
        await page.fill('#name', name);
        await page.click('#join-button');
        await page.waitForFunction(() => window.demo?.room?.state === 'connected', null, { timeout: 15_000 });
        pages.push(page);
      }
      // The WHIP/WHEP example stays linked from the demo.
      assert.equal(await pages[0].getAttribute('footer a[href="/web/whip/"]', 'href'), '/web/whip/');

      const deadline = Date.now() + 30_000;
      let all;
      for (;;) {
        all = await Promise.all(pages.map(tileStats));
        const good = all.every((tiles) => tiles.length === 3 && tiles.every((t) => t.width > 0 && t.bright > 0.2));
        if (good) break;
        assert.ok(Date.now() < deadline, `tiles after 30 s: ${JSON.stringify(all)}`);
        await sleep(500);
      }
      for (const [i, tiles] of all.entries()) {
        const labels = tiles.map((t) => t.label).sort();
        const expected = people.map((p) => (p === people[i] ? `${p} (you)` : p)).sort();
        assert.deepEqual(labels, expected, `page of ${people[i]}`);
      }
      // Let a few more frames arrive so the picture is not the first key frame, then keep it.
      await sleep(1000);
      await pages[0].screenshot({ path: shot, fullPage: true });
      console.log(`screenshot: ${shot}; tiles: ${JSON.stringify(all[0])}`);

      // Ben shares his screen (fake capture): a tile of its own on the others' pages, gone when he stops.
      await pages[1].click('#screen');
      await pages[0].waitForFunction(() => [...document.querySelectorAll('#tiles .tile')].some((t) => t.dataset.group === 'screen'
        && t.querySelector('.name').textContent === 'Ben — screen' && t.querySelector('video').videoWidth > 0), null, { timeout: 10_000 });
      await pages[1].click('#screen');
      await pages[0].waitForFunction(() => ![...document.querySelectorAll('#tiles .tile')].some((t) => t.dataset.group === 'screen'), null, { timeout: 3000 });

      // A message typed in one page shows up in the others under the sender's name.
      await pages[1].fill('#message', 'hello from Ben');
      await pages[1].press('#message', 'Enter');
      for (const p of [pages[0], pages[2]]) {
        await p.waitForFunction(() => document.getElementById('messages').textContent.includes('Ben: hello from Ben'), null, { timeout: 3000 });
      }
      // Muting the camera is shown on the others' tile.
      await pages[2].click('#camera');
      await pages[0].waitForFunction(() => [...document.querySelectorAll('.tile .name')].some((n) => n.textContent.startsWith('Cat') && n.textContent.includes('camera off')), null, { timeout: 3000 });
      // Leaving removes the tile from the others.
      await pages[2].click('#leave');
      await pages[0].waitForFunction(() => document.querySelectorAll('#tiles .tile').length === 2, null, { timeout: 3000 });
    });
    assert.ok(fs.statSync(shot).size > 10_000, 'the screenshot is there');
  }, { cleanExit: true });
});
