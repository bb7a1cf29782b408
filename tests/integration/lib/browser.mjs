// Debian's chromium driven by playwright-core, set up for WebRTC tests: fake camera and microphone, no prompts,
// loopback ICE allowed, and no traffic to anything but this machine.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

// Exactly these switches; playwright adds only what it needs to drive the browser.
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost',
];

/**
 * Launches chromium with a fresh profile under /tmp (removed by close()).
 * @param {object} [options]
 * @param {string} [options.netns] run chromium inside this network namespace (lib/netns.mjs): through a generated
 *   wrapper `exec ip netns exec NS chromium "$@"`; playwright drives it over a pipe, which crosses namespaces
 * @param {string} [options.tmpDir] where the profile (and wrapper) go, default the system's temp folder
 * @param {string[]} [options.extraArgs] switches added after CHROMIUM_FLAGS, for what one test needs of its own
 *   browser (e.g. `--use-file-for-fake-audio-capture=FILE.wav`, a process-wide choice)
 * @returns {Promise<{context: import('playwright-core').BrowserContext,
 *                    newPage: () => Promise<import('playwright-core').Page>,
 *                    consoleLines: string[], close: () => Promise<void>}>}
 */
export async function launchBrowser({ executablePath = CHROMIUM_PATH, timeoutMs = 30_000, netns = null,
                                     tmpDir = os.tmpdir(), extraArgs = [] } = {}) {
  const userDataDir = await fs.mkdtemp(path.join(tmpDir, 'atrium-chromium-'));
  const wrapper = netns ? `${userDataDir}.sh` : null;
  const cleanup = async () => {
    await fs.rm(userDataDir, { recursive: true, force: true });
    if (wrapper) await fs.rm(wrapper, { force: true });
  };
  let context;
  try {
    if (wrapper) {
      await fs.writeFile(wrapper, `#!/bin/sh\nexec ip netns exec '${netns}' '${executablePath}' "$@"\n`, { mode: 0o755 });
    }
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: wrapper ?? executablePath,
      args: [...CHROMIUM_FLAGS, ...extraArgs],
      headless: true,
      timeout: timeoutMs,
    });
  } catch (error) {
    await cleanup();
    throw error;
  }
  // Page console output and errors, to print when a test fails.
  const consoleLines = [];
  const watch = (page) => {
    page.on('console', (message) => consoleLines.push(`[${message.type()}] ${message.text()}`));
    page.on('pageerror', (error) => consoleLines.push(`[pageerror] ${error.message}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);

  return {
    context,
    consoleLines,
    newPage: () => context.newPage(),
    async close() {
      await context.close().catch(() => {});
      await cleanup();
    },
  };
}

/** Runs `fn(browser)` with a fresh chromium; prints the pages' console on failure and always closes it. */
export async function withBrowser(options, fn) {
  const browser = await launchBrowser(options);
  try {
    return await fn(browser);
  } catch (error) {
    console.error(`--- browser console, last lines ---\n${browser.consoleLines.slice(-40).join('\n')}\n---`);
    throw error;
  } finally {
    await browser.close();
  }
}

/**
 * On loopback: a page of `server`'s /web/whip/ publishes to `room`, another watches; resolves with the viewer's
 * stats once it decoded 30 frames and received 50 audio packets, throws with them after 15 s.
 */
export async function publishAndWatch(browser, server, room) {
  const open = async () => {
    const page = await browser.newPage();
    await page.goto(`${server.browserUrl}/web/whip/`);
    await page.waitForFunction(() => window.atrium !== undefined);
    return page;
  };
  const a = await open();
  const b = await open();
  await a.evaluate(async (r) => { window.pub = await window.atrium.publish({ room: r, peer: 'alice' }); }, room);
  await b.evaluate(async (r) => { window.view = await window.atrium.watch({ room: r }); }, room);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await b.evaluate(() => window.atrium.inboundStats(window.view.pc));
    if ((s.video?.framesDecoded ?? 0) >= 30 && (s.audio?.packetsReceived ?? 0) > 50) {
      await b.evaluate(async () => { await window.view.stop(); });
      await a.evaluate(async () => { await window.pub.stop(); });
      return s;
    }
    if (Date.now() > deadline) throw new Error(`viewer stats after 15 s: ${JSON.stringify(s)}\n${server.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
