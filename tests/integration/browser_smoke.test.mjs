// The browser harness works before any WebRTC transport exists: chromium starts with the fake devices, a page
// served from localhost gets a live camera track with a real size.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { withBrowser } from './lib/browser.mjs';
import { serveStatic } from './lib/static.mjs';

const pages = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pages');

test('chromium gets a live fake camera and microphone on a localhost page', async () => {
  const site = await serveStatic(pages);
  try {
    await withBrowser({}, async (browser) => {
      const page = await browser.newPage();
      await page.goto(`${site.url}/getusermedia.html`);
      const result = await page.evaluate(() => window.result);
      assert.equal(result.error, undefined, result.error);
      assert.equal(result.secure, true);
      assert.equal(result.video.readyState, 'live');
      assert.ok(result.video.width > 0 && result.video.height > 0, JSON.stringify(result));
      assert.ok(result.element.width > 0, JSON.stringify(result));
      assert.equal(result.audio?.readyState, 'live');
    });
  } finally {
    await site.close();
  }
});
