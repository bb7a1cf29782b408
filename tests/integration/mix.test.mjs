// The room's mix in a real room: two demo pages (web/room, through the SDK), each in its own chromium with its
// own fake microphone (lib/wav.mjs, 48 kHz mono): Ann a 440 Hz tone at -6 dBFS throughout, Ben near silence
// (±3 LSB). Each page asks for the mix (room.subscribeMix()) and a WebAudio analyser (FFT 8192, 5.9 Hz bins)
// watches the received track. Asserts: Ben's mix carries Ann's tone (strongest bin within 50 Hz of 440 Hz,
// RMS > 0.01, and within a factor 2 of Ann's track received directly) within 10 s; Ann's mix leaves her own voice out (mix-minus: RMS < 0.005 while Ben hears her);
// after unsubscribeMix the receiver falls silent.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { launchBrowser } from './lib/browser.mjs';
import { installAnalyser } from './lib/page_audio.mjs';
import { writeWav } from './lib/wav.mjs';
import { sleep } from './lib/sdk.mjs';
import { withServer } from './lib/server.mjs';

// In the page: the mix's track into an analyser (lib/page_audio.mjs), and the other page's own audio as the demo
// page subscribed it, for comparison (what the mix started from).
const LISTEN = async () => {
  const track = await window.demo.room.subscribeMix();
  const an = await window.analyseTrack(track);
  let direct = null;
  for (const sub of window.demo.room.subscriptions.values()) {
    if (sub.kind !== 'audio' || sub.peer === '*') continue;
    direct = await window.analyseTrack(sub.receiver);
    break;
  }
  window.mix = { an, direct, track };
  return track.kind;
};

// In the page: the strongest FFT bin (Hz), the RMS of the last 8192 samples, and the same RMS of the direct track.
const MEASURE = () => {
  const { an, direct } = window.mix;
  return {
    ...window.peakOf(an),
    directRms: direct ? window.rmsOf(direct) : null,
    state: window.demo.room.subscriptions.get('*/mix')?.state ?? null,
  };
};

test('the room mix: a listener hears the loud page, the loud page does not hear itself', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-mix-'));
  const people = [
    { name: 'Ann', loud: () => true },
    { name: 'Ben', loud: () => false },
  ];
  for (const p of people) {
    p.wav = path.join(dir, `${p.name}.wav`);
    writeWav(p.wav, 60, p.loud);
  }
  const browsers = [];
  try {
    await withServer({ name: 'mix', args: ['--bind', '127.0.0.1', '--udp-port', '0'] }, async (server) => {
      for (const p of people) {
        const browser = await launchBrowser({
          extraArgs: [`--use-file-for-fake-audio-capture=${p.wav}`, '--autoplay-policy=no-user-gesture-required'],
        });
        browsers.push(browser);
        const page = await browser.newPage();
        await page.goto(`${server.browserUrl}/`);
        await page.fill('#room', 'mix');
        await page.fill('#name', p.name);
        await page.click('#join-button');
        await page.waitForFunction(() => window.demo?.room?.state === 'connected', null, { timeout: 15_000 });
        p.page = page;
      }
      for (const p of people) {
        await installAnalyser(p.page);
        assert.equal(await p.page.evaluate(LISTEN), 'audio');
      }
      const [ann, ben] = people;

      // Ben hears Ann's tone.
      const deadline = Date.now() + 10_000;
      const t0 = Date.now();
      let heard = null;
      let last = null;
      while (Date.now() < deadline) {
        last = await ben.page.evaluate(MEASURE);
        if (last.rms > 0.01 && Math.abs(last.peakHz - 440) <= 50) {
          heard = Date.now() - t0;
          break;
        }
        await sleep(100);
      }
      assert.ok(heard !== null, `Ben's mix: ${JSON.stringify(last)}`);
      // A few more looks, steady now; and what Ann's own mix carries meanwhile.
      const benLooks = [];
      const annLooks = [];
      for (let i = 0; i < 10; i += 1) {
        benLooks.push(await ben.page.evaluate(MEASURE));
        annLooks.push(await ann.page.evaluate(MEASURE));
        await sleep(200);
      }
      const fmt = (looks) => looks.map((l) => `${l.peakHz.toFixed(1)}Hz/${l.rms.toFixed(4)}(direct ${l.directRms?.toFixed(4)})`).join(' ');
      console.log(`Ben heard 440 Hz ${heard} ms after subscribing; Ben's mix (peak/RMS): ${fmt(benLooks)}`);
      console.log(`Ann's mix (her own tone left out): ${fmt(annLooks)}; states ${benLooks.at(-1).state}/${annLooks.at(-1).state}`);
      for (const l of benLooks) {
        assert.ok(Math.abs(l.peakHz - 440) <= 50, `Ben's mix peak ${l.peakHz} Hz`);
        assert.ok(l.rms > 0.01, `Ben's mix RMS ${l.rms}`);
        // The same level as Ann's own track received directly (chromium's capture processing makes a steady
        // tone fade over seconds; the mix follows it).
        if (l.directRms !== null) assert.ok(l.rms > 0.5 * l.directRms && l.rms < 2 * l.directRms, `mix ${l.rms} vs direct ${l.directRms}`);
      }
      for (const l of annLooks) assert.ok(l.rms < 0.005, `Ann hears herself: RMS ${l.rms} at ${l.peakHz} Hz`);
      assert.equal(benLooks.at(-1).state, 'live');

      // Unsubscribing stops the mix on that receiver: it falls silent.
      await ben.page.evaluate(() => window.demo.room.unsubscribeMix());
      assert.equal(await ben.page.evaluate(() => window.demo.room.subscriptions.has('*/mix')), false);
      const quietBy = Date.now() + 5000;
      let after = null;
      while (Date.now() < quietBy) {
        after = await ben.page.evaluate(MEASURE);
        if (after.rms < 0.001) break;
        await sleep(100);
      }
      console.log(`after unsubscribeMix: ${JSON.stringify(after)}`);
      assert.ok(after.rms < 0.001, `Ben's receiver after unsubscribeMix: ${JSON.stringify(after)}`);
    });
  } catch (error) {
    for (const b of browsers) console.error(`--- browser console ---\n${b.consoleLines.slice(-20).join('\n')}`);
    throw error;
  } finally {
    for (const b of browsers) await b.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
