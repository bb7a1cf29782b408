#!/usr/bin/env node
// Proves lib/baresip.mjs and lib/audio_analysis.mjs without atrium: two baresips on loopback call each other.
// Not part of the suite (run by hand: `node tests/integration/clients/baresip_selftest.mjs [pcmu|opus ...]`).
// For each codec: the callee auto-answers and plays 1 kHz, the caller dials sip:x@127.0.0.1:PORT and plays 440 Hz;
// ~3 s of call, DTMF "123#" from the caller, hangup; then each side's recording must have the other's tone and not
// its own. Then a node UDP socket plays the far end of one INVITE and prints the SDP baresip offers.
// Exits 0 when every check passes.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBaresip } from '../lib/baresip.mjs';
import { readWav, toneLevel, dominantFrequency, describeAudio, writeToneWav, readWavHeader } from '../lib/audio_analysis.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'baresip-selftest-'));

async function call(codec) {
  const rate = codec === 'opus' ? 48000 : 8000;
  const callerWav = writeToneWav(path.join(work, `caller-440-${rate}.wav`), { freq: 440, seconds: 60, rate });
  const calleeWav = writeToneWav(path.join(work, `callee-1000-${rate}.wav`), { freq: 1000, seconds: 60, rate });
  const calleeRec = path.join(work, `callee-heard-${codec}.wav`);
  const callerRec = path.join(work, `caller-heard-${codec}.wav`);
  const callee = await startBaresip({ name: `callee-${codec}`, sourceWav: calleeWav, recordWav: calleeRec, codecs: [codec],
                                      autoAnswer: true, user: 'x' });
  let caller = null;
  try {
    caller = await startBaresip({ name: `caller-${codec}`, sourceWav: callerWav, recordWav: callerRec, codecs: [codec],
                                  user: 'caller', displayName: 'Self Test' });
    await caller.dial(`sip:x@127.0.0.1:${callee.sipPort}`);
    await caller.waitEvent('CALL_ESTABLISHED', 5_000);
    await callee.waitEvent('CALL_ESTABLISHED', 5_000);
    const codecLine = await callee.waitFor(/Set audio decoder: [^\n]*/, 3_000).catch(() => null);
    await sleep(1_500);
    // Is the recording written while the call goes on?
    const during = callee.decodedWavs();
    const sizeDuring = during.length ? fs.statSync(during[0]).size : 0;
    const heardSoFar = during.length ? readWav(during[0]) : null;
    await caller.sendDtmf('123#');
    await sleep(1_500);
    const sizeLater = during.length ? fs.statSync(during[0]).size : 0;
    await caller.hangup();
    await callee.waitEvent('CALL_CLOSED', 5_000);
    await caller.waitEvent('CALL_CLOSED', 5_000);
    const digits = callee.receivedDigits();
    const dtmfEvents = callee.events.filter((e) => /DTMF/.test(e.type)).map((e) => `${e.type}:${e.param}`);
    const dtmfLog = fs.readFileSync(callee.logFile, 'utf8').split('\n').filter((l) => /dtmf|telephone|digit/i.test(l));
    const calleeStop = await callee.stop();
    const callerStop = await caller.stop();

    const heard = readWav(calleeRec);
    const heardBack = readWav(callerRec);
    const hdr = readWavHeader(calleeRec);
    const a = describeAudio(heard.samples, heard.rate, { from: 0.5, freqs: [440, 1000] });
    const b = describeAudio(heardBack.samples, heardBack.rate, { from: 0.5, freqs: [440, 1000] });
    console.log(`[${codec}] callee recorded ${path.basename(calleeStop.recording)} (${hdr.rate} Hz, ${hdr.channels} ch, ${hdr.bits} bit): ${JSON.stringify(a)}`);
    console.log(`[${codec}] caller recorded ${path.basename(callerStop.recording)}: ${JSON.stringify(b)}`);
    console.log(`[${codec}] recording during the call: ${during.length} file(s), ${sizeDuring} bytes at +1.5 s, ${sizeLater} bytes at +3 s` +
                `${heardSoFar ? `, readable then: ${heardSoFar.seconds.toFixed(2)} s, dominant ${dominantFrequency(heardSoFar.samples, heardSoFar.rate).toFixed(1)} Hz` : ''}`);
    console.log(`[${codec}] ${codecLine ? codecLine[0] : ''}`);
    console.log(`[${codec}] DTMF: callee's digits "${digits}", events ${JSON.stringify(dtmfEvents)}`);
    for (const l of dtmfLog.slice(0, 12)) console.log(`[${codec}]   log: ${l}`);

    assert.ok(Math.abs(a.dominantHz - 440) < 5, `callee hears ${a.dominantHz} Hz, not 440`);
    assert.ok(toneLevel(heard.samples, heard.rate, 440, { from: 0.5 }) > 0.1, 'callee: 440 Hz too weak');
    assert.ok(toneLevel(heard.samples, heard.rate, 1000, { from: 0.5 }) < 0.01, 'callee hears its own 1 kHz');
    assert.ok(Math.abs(b.dominantHz - 1000) < 5, `caller hears ${b.dominantHz} Hz, not 1000`);
    assert.ok(toneLevel(heardBack.samples, heardBack.rate, 440, { from: 0.5 }) < 0.01, 'caller hears its own 440 Hz');
    assert.ok(sizeLater > sizeDuring && sizeDuring > 0, 'the recording grows during the call');
    return { codec, digits };
  } catch (error) {
    for (const p of [caller, callee].filter(Boolean)) console.error(`--- ${p.logFile} ---\n${p.tail(50)}`);
    throw error;
  } finally {
    await caller?.stop();
    await callee.stop();
  }
}

// The far end of one INVITE: a UDP socket that answers nothing and prints what baresip offers.
async function captureOffer(codecs) {
  const sock = dgram.createSocket('udp4');
  await new Promise((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const port = sock.address().port;
  const wav = writeToneWav(path.join(work, 'capture.wav'), { freq: 440, seconds: 5, rate: 8000 });
  const phone = await startBaresip({ name: 'capture', sourceWav: wav, codecs });
  try {
    const got = new Promise((resolve) => sock.on('message', (m) => { if (m.toString().startsWith('INVITE ')) resolve(m.toString()); }));
    await phone.dial(`sip:room@127.0.0.1:${port}`);
    const invite = await Promise.race([got, sleep(3_000).then(() => null)]);
    assert.ok(invite, 'no INVITE arrived');
    return invite;
  } finally {
    await phone.stop();
    sock.close();
  }
}

const codecs = process.argv.slice(2).length ? process.argv.slice(2) : ['pcmu', 'opus'];
let failed = 0;
for (const codec of codecs) {
  try {
    const r = await call(codec);
    console.log(`[${codec}] OK (DTMF digits received: "${r.digits}")`);
  } catch (error) {
    failed++;
    console.error(`[${codec}] FAILED: ${error.stack}`);
  }
}
for (const c of [['opus'], ['pcmu'], null]) {
  const invite = await captureOffer(c);
  console.log(`--- INVITE for codecs=${c ? c.join(',') : '(default)'} ---\n${invite.replace(/\r\n/g, '\n')}`);
}
console.log(failed ? `${failed} FAILED (files in ${work})` : `all OK (files in ${work})`);
process.exit(failed ? 1 : 0);
