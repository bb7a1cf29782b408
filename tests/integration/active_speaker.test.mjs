// Active speakers in a real room: three demo pages (web/room, which joins through the SDK), each in its own
// chromium with its own fake microphone (--use-file-for-fake-audio-capture is process-wide). The WAVs are
// written here: 48 kHz 16-bit mono, 60 s (no loop within the test), scheduled on each capture's own clock:
//   Ann: a 440 Hz tone at -6 dBFS for 0-25 s, then near silence;
//   Ben: near silence for 0-27 s, then the tone;
//   Cat: near silence throughout.
// Asserts: every page names Ann (room.activeSpeakers[0]) within 2 s of its join, her tile has the `speaking`
// class (screenshot kept in ${ATRIUM_BUILD_DIR}/artifacts/active-speaker.png), and when Ben's tone starts every
// page follows to Ben within 3 s. A capture's clock starts when its getUserMedia resolves (recorded by an init
// script), so "Ben starts" is that moment + 27 s (to ~0.1 s: when chromium's file source starts reading).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { launchBrowser } from './lib/browser.mjs';
import { writeWav } from './lib/wav.mjs';
import { sleep } from './lib/sdk.mjs';
import { withServer } from './lib/server.mjs';

// When getUserMedia resolved, on this page's clock (Date.now, the same machine's as the test's).
const RECORD_CAPTURE = () => {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (c) => {
    const s = await original(c);
    if (c?.audio) window.captureStartedAt = Date.now();
    return s;
  };
};

const speakerOf = (page) => page.evaluate(() => ({
  first: window.demo?.room?.activeSpeakers?.[0]?.peer ?? null,
  list: window.demo?.room?.activeSpeakers ?? [],
  highlighted: [...document.querySelectorAll('#tiles .tile.speaking')].map((t) => t.dataset.peer),
}));

// Polls every 50 ms until every page names `peer` first and highlights its tile; the time each page got there.
async function untilNamed(pages, peer, timeoutMs) {
  const at = new Array(pages.length).fill(null);
  const deadline = Date.now() + timeoutMs;
  let last = [];
  while (at.includes(null) && Date.now() < deadline) {
    last = await Promise.all(pages.map(speakerOf));
    last.forEach((s, i) => {
      if (at[i] === null && s.first === peer && s.highlighted.length === 1 && s.highlighted[0] === peer) at[i] = Date.now();
    });
    await sleep(50);
  }
  return { at, last };
}

test('active speakers: the loud page is named and highlighted everywhere, and the name follows the voice', { timeout: 180_000 }, async () => {
  const artifacts = path.join(process.env.ATRIUM_BUILD_DIR ?? os.tmpdir(), 'artifacts');
  fs.mkdirSync(artifacts, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-speaker-'));
  const ANN_UNTIL = 25;
  const BEN_FROM = 27;
  const people = [
    { name: 'Ann', loud: (t) => t < ANN_UNTIL },
    { name: 'Ben', loud: (t) => t >= BEN_FROM },
    { name: 'Cat', loud: () => false },
  ];
  for (const p of people) {
    p.wav = path.join(dir, `${p.name}.wav`);
    writeWav(p.wav, 60, p.loud);
  }
  const browsers = [];
  try {
    await withServer({ name: 'active-speaker', args: ['--bind', '127.0.0.1', '--udp-port', '0'] }, async (server) => {
      const pages = [];
      for (const p of people) {
        const browser = await launchBrowser({ extraArgs: [`--use-file-for-fake-audio-capture=${p.wav}`] });
        browsers.push(browser);
        const page = await browser.newPage();
        await page.addInitScript(RECORD_CAPTURE);
        await page.setViewportSize({ width: 1280, height: 720 });
        await page.goto(`${server.browserUrl}/`);
        await page.fill('#room', 'speakers');
        await page.fill('#name', p.name);
        await page.click('#join-button');
        await page.waitForFunction(() => window.demo?.room?.state === 'connected', null, { timeout: 15_000 });
        p.joinedAt = Date.now();
        p.peer = await page.evaluate(() => window.demo.room.peerId);
        p.captureAt = await page.evaluate(() => {
          const room = window.demo.room;
          window.speakerLog = [{ at: Date.now(), speakers: room.activeSpeakers }];
          room.on('active_speakers', ({ speakers }) => window.speakerLog.push({ at: Date.now(), speakers }));
          return window.captureStartedAt;
        });
        pages.push(page);
        // Ann (the first to join, so her own page too) is named and her tile outlined within 2 s of the join.
        const named = await untilNamed([page], people[0].peer, 4000);
        p.toName = named.at[0] === null ? null : named.at[0] - p.joinedAt;
        assert.ok(p.toName !== null && p.toName <= 2000,
          `${p.name}'s page: ${JSON.stringify(named.last[0])} (Ann is ${people[0].peer}), ${p.toName} ms after its join`);
      }
      const [ann, ben] = people;
      const byPeer = Object.fromEntries(people.map((p) => [p.peer, p.name]));
      console.log(`Ann named, ms after each page joined: ${JSON.stringify(people.map((p) => p.toName))}`);
      const first = await untilNamed(pages, ann.peer, 2000);
      first.at.forEach((t, i) => assert.ok(t !== null, `${people[i].name}'s page: ${JSON.stringify(first.last[i])}`));
      console.log(`lists: ${JSON.stringify(first.last.map((s) => s.list))}`);
      const shot = path.join(artifacts, 'active-speaker.png');
      await pages[1].screenshot({ path: shot, fullPage: true });
      console.log(`screenshot: ${shot}`);
      assert.ok(Date.now() < ann.captureAt + ANN_UNTIL * 1000, 'the pages joined before Ann went quiet');

      // Ben's tone starts BEN_FROM s into his capture (Ann went quiet at ANN_UNTIL s into hers): every page
      // follows within 3 s of Ben's start.
      const benStarts = ben.captureAt + BEN_FROM * 1000;
      await sleep(Math.max(0, benStarts - Date.now() - 500));
      const before = await Promise.all(pages.map(speakerOf));
      before.forEach((s, i) => assert.equal(s.first, ann.peer, `${people[i].name}'s page still names Ann just before Ben speaks`));
      const second = await untilNamed(pages, ben.peer, 6000);
      const toSwitch = second.at.map((t) => (t === null ? null : t - benStarts));
      console.log(`Ben named, ms after his tone started: ${JSON.stringify(toSwitch)}; lists: ${JSON.stringify(second.last.map((s) => s.list))}`);
      toSwitch.forEach((ms, i) => assert.ok(ms !== null && ms <= 3000,
        `${people[i].name}'s page: ${JSON.stringify(second.last[i])} (${JSON.stringify(byPeer)}), ${ms} ms`));
      await pages[0].screenshot({ path: path.join(artifacts, 'active-speaker-switched.png'), fullPage: true });
      for (const [i, page] of pages.entries()) {
        const log = await page.evaluate(() => window.speakerLog);
        const t0 = people[0].captureAt;
        console.log(`${people[i].name}'s active_speakers (s after Ann's capture): ${log.map((e) => `${((e.at - t0) / 1000).toFixed(1)}:${e.speakers.map((x) => `${byPeer[x.peer]}${x.level}`).join(',')}`).join(' ')}`);
      }
    });
  } catch (error) {
    for (const b of browsers) console.error(`--- browser console ---\n${b.consoleLines.slice(-20).join('\n')}`);
    throw error;
  } finally {
    for (const b of browsers) await b.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
