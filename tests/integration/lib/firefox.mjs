// Debian's firefox-esr driven by puppeteer-core over WebDriver BiDi (playwright-core needs its own patched Firefox,
// and BiDi needs no geckodriver), set up like lib/browser.mjs sets up chromium: fake camera and microphone, no
// prompts, loopback ICE, and nothing that phones home. The object it returns has the same shape as
// launchBrowser()'s, and puppeteer's page API covers what the test pages use (goto, evaluate, waitForFunction, on),
// so lib/media.mjs and lib/sdk.mjs drive either browser.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import puppeteer from 'puppeteer-core';

export const FIREFOX_PATH = process.env.FIREFOX_BIN ?? '/usr/bin/firefox-esr';

export const FIREFOX_PREFS = {
  // Fake media, granted without a prompt.
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  // Without these two a page that captures nothing (a WHEP viewer) gets "default address only" ICE, which has no
  // candidate at all in a namespace with no route.
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  // Gather 127.0.0.1 (loopback is skipped otherwise).
  'media.peerconnection.ice.loopback': true,
  // Nothing but the pages under test: no updates, telemetry, remote settings, captive portal or safe browsing.
  'app.update.enabled': false,
  'app.update.auto': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'services.settings.server': 'http://localhost:1/',
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'extensions.update.enabled': false,
  'browser.search.update': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  // A page in the background must keep its media and timers running (several pages share one window).
  'media.autoplay.default': 0,
  'dom.min_background_timeout_value': 4,
};

/**
 * Launches firefox-esr headless with a fresh profile under /tmp (removed by close()).
 * @returns {Promise<{browser, newPage: () => Promise<import('puppeteer-core').Page>, consoleLines: string[],
 *   close: () => Promise<void>, name: 'firefox'}>}
 */
export async function launchFirefox({ executablePath = FIREFOX_PATH, timeoutMs = 60_000, tmpDir = os.tmpdir() } = {}) {
  const userDataDir = await fs.mkdtemp(path.join(tmpDir, 'atrium-firefox-'));
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath,
      headless: true,
      userDataDir,
      extraPrefsFirefox: FIREFOX_PREFS,
      timeout: timeoutMs,
      protocolTimeout: timeoutMs,
    });
  } catch (error) {
    await fs.rm(userDataDir, { recursive: true, force: true });
    throw new Error(`firefox-esr did not start (${executablePath}): ${error.message}`);
  }
  return wrapFirefox(browser, () => fs.rm(userDataDir, { recursive: true, force: true }));
}

/** What launchFirefox returns, around a connected puppeteer browser; `cleanup` runs after it closes. */
export function wrapFirefox(browser, cleanup = async () => {}) {
  const consoleLines = [];
  return {
    name: 'firefox',
    browser,
    consoleLines,
    async newPage() {
      const page = await browser.newPage();
      page.on('console', (message) => consoleLines.push(`[${message.type()}] ${message.text()}`));
      page.on('pageerror', (error) => consoleLines.push(`[pageerror] ${error.message}`));
      return page;
    },
    async close() {
      await browser.close().catch(() => {});
      await cleanup();
    },
  };
}

// Prefs puppeteer sets when it launches Firefox itself that a test run needs too: no first-run or default-browser
// pages, no prompts on close.
export const FIREFOX_STARTUP_PREFS = {
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.startup.page': 0,
  'browser.aboutwelcome.enabled': false,
  'datareporting.policy.firstRunURL': '',
  'browser.tabs.warnOnClose': false,
  'dom.disable_open_during_load': false,
};

/** A profile's user.js that sets `prefs`. */
export function userJs(prefs) {
  return Object.entries(prefs).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n') + '\n';
}

/** Runs `fn(firefox)` with a fresh firefox; prints the pages' console on failure and always closes it. */
export async function withFirefox(options, fn) {
  const firefox = await launchFirefox(options);
  try {
    return await fn(firefox);
  } catch (error) {
    console.error(`--- firefox console, last lines ---\n${firefox.consoleLines.slice(-40).join('\n')}\n---`);
    throw error;
  } finally {
    await firefox.close();
  }
}
