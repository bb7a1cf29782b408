// SIP phones in a room (docs/sip.md), with real clients: baresip from Debian (lib/baresip.mjs) and Chromium
// through the room SDK.
// - A phone joins a browser: baresip plays a 440 Hz tone and calls sip:ROOM@127.0.0.1:PORT; a Chromium page is
//   in the room with a 1000 Hz fake microphone. The page's subscription to the phone's track has its FFT peak at
//   440 Hz (WebAudio analyser); what baresip heard (its decoded-audio dump) has the page's 1000 Hz and not its own
//   440 Hz (mix-minus), measured with Goertzel in node. Once with the codec forced to PCMU, once to Opus.
// - DTMF: the phone presses digits; the page gets them as messages from the phone's peer.
// - Two phones (PCMU and Opus) and a browser: each phone hears the other and the browser, not itself.
// - --sip-secret: a digest challenge; the wrong password is refused, the right one joins.
// - --auth-secret: a room name alone, or a token that may not publish, is refused; sip:TOKEN@host joins.
// - Cluster: the phone calls node 1, the page is on node 2 (NATS), and each hears the other.
// - Bad input (raw datagrams): garbage, missing Call-ID/CSeq/Via, a 64 KiB SDP, BYE for an unknown dialog, ACK
//   without an INVITE, an INVITE flood past --sip-rate-limit (503), RTP from a wrong address; then a phone call
//   still works.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { dbfs, readWav, toneLevel, writeToneWav } from './lib/audio_analysis.mjs';
import { freeUdpTcpPort, startBaresip } from './lib/baresip.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { installAnalyser } from './lib/page_audio.mjs';
import { events, join, sdkPage, sleep, until } from './lib/sdk.mjs';
import { metric } from './lib/measure.mjs';
import { Nats } from './lib/nats.mjs';
import { freePort, runAtrium, startServer, withServer } from './lib/server.mjs';

const PAGE_HZ = 1000;
const PHONE_HZ = 440;

// In the page: an analyser on the subscription to `peer`'s audio (lib/page_audio.mjs).
const LISTEN = async (peer) => {
  const sub = [...window.t.room.subscriptions.values()].find((s) => s.peer === peer && s.kind === 'audio');
  if (!sub) return false;
  window.phone = await window.analyseTrack(sub.receiver);
  return true;
};
const MEASURE = () => window.peakOf(window.phone);

// One call from a baresip phone into `room`, with a page in the room: the checks of the first scenario.
async function phoneCall({ server, pageServer = server, sipPort, dir, codec, room, digits = '', phoneOptions = {}, dial = room, pageToken }) {
  const phoneWav = path.join(dir, `phone-${codec}.wav`);
  writeToneWav(phoneWav, { freq: PHONE_HZ, seconds: 60, rate: 8000, amplitude: 0.5 });
  const pageWav = path.join(dir, 'page.wav');
  writeToneWav(pageWav, { freq: PAGE_HZ, seconds: 60, rate: 48000, amplitude: 0.5 });
  const browser = await launchBrowser({
    extraArgs: [`--use-file-for-fake-audio-capture=${pageWav}`, '--autoplay-policy=no-user-gesture-required'],
  });
  const phone = await startBaresip({ sourceWav: phoneWav, codecs: [codec], user: `alice-${codec}`, displayName: 'Alice', name: `phone-${codec}`, ...phoneOptions });
  try {
    const page = await sdkPage(browser, pageServer);
    const joined = await join(page, { room, peer: 'web', token: pageToken });
    assert.ok(!joined.error, `the page joins: ${joined.error}`);
    await installAnalyser(page);
    const t0 = Date.now();
    await phone.dial(`sip:${dial}@127.0.0.1:${sipPort}`);
    await phone.waitEvent('CALL_ESTABLISHED', 10_000);
    const established = Date.now() - t0;
    // The phone is a peer named after its display name, with its caller id in its meta.
    const { value: peerJoined } = await until(async () => (await events(page, 'peer_joined')).find((e) => e.peer === 'Alice'), { timeoutMs: 5_000, what: 'the phone as a peer' });
    assert.match(JSON.stringify(peerJoined.meta), new RegExp(`alice-${codec}@127\\.0\\.0\\.1`));
    await until(() => page.evaluate(LISTEN, 'Alice'), { timeoutMs: 5_000, intervalMs: 200, what: "the page's subscription to the phone" });

    let last = null;
    const heard = await until(async () => {
      last = await page.evaluate(MEASURE);
      return last.rms > 0.01 && Math.abs(last.peakHz - PHONE_HZ) <= 30;
    }, { timeoutMs: 10_000, intervalMs: 100, what: `the page hears the phone's ${PHONE_HZ} Hz (last ${JSON.stringify(last)})` });
    const looks = [];
    for (let i = 0; i < 5; i += 1) {
      looks.push(await page.evaluate(MEASURE));
      await sleep(200);
    }
    for (const l of looks) assert.ok(Math.abs(l.peakHz - PHONE_HZ) <= 30 && l.rms > 0.01, `the phone's track in the page: ${JSON.stringify(looks)}`);
    if (digits) await phone.sendDtmf(digits);
    await sleep(1500);
    await phone.hangup();
    await phone.waitEvent('CALL_CLOSED', 5_000);
    // The caller left the room.
    await until(async () => (await events(page, 'peer_left')).some((e) => e.peer === 'Alice'), { timeoutMs: 5_000, what: 'the phone leaves the room' });
    const dtmf = (await events(page, 'message')).filter((e) => e.from === 'Alice').map((e) => (typeof e.data === 'string' ? JSON.parse(e.data) : e.data)).filter((m) => m?.type === 'dtmf');

    await phone.stop();
    const wavs = phone.decodedWavs();
    assert.ok(wavs.length >= 1, 'baresip wrote what it heard');
    const { samples, rate } = readWav(wavs.at(-1));
    // Skip the first second (the mix fades in, the page's tone starts); measure the rest of the call.
    const pageTone = dbfs(toneLevel(samples, rate, PAGE_HZ, { from: 1 }));
    const ownTone = dbfs(toneLevel(samples, rate, PHONE_HZ, { from: 1 }));
    console.log(`${codec}: established ${established} ms after dial; the page heard ${PHONE_HZ} Hz ${heard.ms} ms after subscribing ` +
      `(${looks.map((l) => `${l.peakHz.toFixed(0)}Hz/${l.rms.toFixed(3)}`).join(' ')}); the phone heard ${PAGE_HZ} Hz at ` +
      `${pageTone.toFixed(1)} dBFS and its own ${PHONE_HZ} Hz at ${ownTone.toFixed(1)} dBFS over ${(samples.length / rate).toFixed(1)} s`);
    assert.ok(pageTone > -30, `the phone hears the page's ${PAGE_HZ} Hz: ${pageTone} dBFS`);
    assert.ok(ownTone < pageTone - 40, `mix-minus: the phone's own ${PHONE_HZ} Hz at ${ownTone} dB against the page's ${pageTone} dB`);
    return { dtmf };
  } catch (error) {
    console.error(`--- baresip ---\n${phone.tail(40)}\n--- browser console ---\n${browser.consoleLines.slice(-20).join('\n')}`);
    throw error;
  } finally {
    await phone.stop().catch(() => {});
    await browser.close();
  }
}

test('a phone joins a browser: PCMU, then Opus; DTMF digits reach the page', { timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-sip-'));
  const sipPort = await freeUdpTcpPort();
  try {
    await withServer({ name: 'sip', args: ['--bind', '127.0.0.1', '--udp-port', '0', '--sip', `127.0.0.1:${sipPort}`] }, async (server) => {
      const pcmu = await phoneCall({ server, sipPort, dir, codec: 'pcmu', room: 'sip-pcmu', digits: '19#' });
      assert.deepEqual(pcmu.dtmf.map((m) => m.digit).join(''), '19#');
      assert.ok(await metric(server, 'atrium_sip_transcoded_total') > 100, 'G.711 was transcoded to Opus');
      const opus = await phoneCall({ server, sipPort, dir, codec: 'opus', room: 'sip-opus', digits: '7*' });
      assert.deepEqual(opus.dtmf.map((m) => m.digit).join(''), '7*');
      assert.equal(await metric(server, 'atrium_sip_calls'), 0, 'no call left');
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('two phones and a browser: each phone hears the other and the browser, not itself', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-sip-two-'));
  const sipPort = await freeUdpTcpPort();
  const tones = { Alice: 440, Bob: 660 };
  const pageWav = path.join(dir, 'page.wav');
  writeToneWav(pageWav, { freq: PAGE_HZ, seconds: 60, rate: 48000, amplitude: 0.5 });
  const browser = await launchBrowser({ extraArgs: [`--use-file-for-fake-audio-capture=${pageWav}`] });
  const phones = [];
  try {
    await withServer({ name: 'sip-two', args: ['--bind', '127.0.0.1', '--udp-port', '0', '--sip', `127.0.0.1:${sipPort}`] }, async (server) => {
      const page = await sdkPage(browser, server);
      assert.ok(!(await join(page, { room: 'two', peer: 'web' })).error);
      for (const [name, freq] of Object.entries(tones)) {
        const wav = path.join(dir, `${name}.wav`);
        writeToneWav(wav, { freq, seconds: 60, rate: 8000, amplitude: 0.5 });
        // Alice on PCMU, Bob on Opus: the mix is encoded once per codec.
        const phone = await startBaresip({ sourceWav: wav, codecs: [name === 'Alice' ? 'pcmu' : 'opus'], user: name.toLowerCase(), displayName: name, name: `phone-${name}` });
        phones.push({ name, freq, phone });
        await phone.dial(`sip:two@127.0.0.1:${sipPort}`);
        await phone.waitEvent('CALL_ESTABLISHED', 10_000);
      }
      await sleep(4000);
      for (const { phone } of phones) await phone.hangup();
      for (const { phone } of phones) await phone.stop();
      for (const { name, freq, phone } of phones) {
        const { samples, rate } = readWav(phone.decodedWavs().at(-1));
        // The last 2 s, when both phones and the page were in the room.
        const to = samples.length / rate;
        const level = (f) => dbfs(toneLevel(samples, rate, f, { from: to - 2.5, to: to - 0.5 }));
        const other = phones.find((p) => p.name !== name);
        const heard = { page: level(PAGE_HZ), other: level(other.freq), own: level(freq) };
        console.log(`${name} heard the page at ${heard.page.toFixed(1)} dBFS, ${other.name} at ${heard.other.toFixed(1)} dBFS, itself at ${heard.own.toFixed(1)} dBFS`);
        assert.ok(heard.page > -35, `${name} hears the page: ${JSON.stringify(heard)}`);
        assert.ok(heard.other > -35, `${name} hears ${other.name}: ${JSON.stringify(heard)}`);
        assert.ok(heard.own < Math.min(heard.page, heard.other) - 30, `${name} does not hear itself: ${JSON.stringify(heard)}`);
      }
    });
  } catch (error) {
    for (const { phone } of phones) console.error(`--- ${phone.logFile} ---\n${phone.tail(30)}`);
    throw error;
  } finally {
    for (const { phone } of phones) await phone.stop().catch(() => {});
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('cluster: a phone on node 1 and a browser on node 2 hear each other', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-sip-cluster-'));
  const nats = new Nats(await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-nats-')));
  const nodes = [];
  try {
    await nats.start();
    const sipPort = await freeUdpTcpPort();
    const args = (id) => ['--bind', '127.0.0.1', '--udp-port', '0', '--cluster', nats.url, '--node-id', id];
    nodes.push(await startServer({ name: 'sip-cluster-n1', args: [...args('n1'), '--sip', `127.0.0.1:${sipPort}`], workers: 1 }));
    nodes.push(await startServer({ name: 'sip-cluster-n2', args: args('n2'), workers: 1 }));
    await phoneCall({ server: nodes[0], pageServer: nodes[1], sipPort, dir, codec: 'pcmu', room: 'sip-cluster' });
    assert.ok((await metric(nodes[0], 'atrium_cluster_relayed_out_total')) > 0, "the phone's voice crossed NATS");
  } finally {
    for (const n of nodes) await n.stop().catch(() => {});
    await nats.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--sip-secret: a phone with the wrong password is refused, the right one joins', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-sip-auth-'));
  const sipPort = await freeUdpTcpPort();
  try {
    await withServer({ name: 'sip-auth', args: ['--bind', '127.0.0.1', '--udp-port', '0', '--sip', `127.0.0.1:${sipPort}`, '--sip-secret', 's3cret'] }, async (server) => {
      const wav = path.join(dir, 'tone.wav');
      writeToneWav(wav, { freq: PHONE_HZ, seconds: 20, rate: 8000 });
      const intruder = await startBaresip({ sourceWav: wav, codecs: ['pcmu'], user: 'mallory', authUser: 'mallory', authPass: 'guess', name: 'phone-wrong' });
      try {
        await intruder.dial(`sip:auth@127.0.0.1:${sipPort}`);
        await intruder.waitEvent('CALL_CLOSED', 10_000);
        assert.ok(!intruder.events.some((e) => e.type === 'CALL_ESTABLISHED'), 'the wrong password is not let in');
      } finally {
        await intruder.stop();
      }
      assert.ok((await metric(server, 'atrium_sip_auth_failures_total')) >= 1);
      assert.ok((await metric(server, 'atrium_sip_auth_challenges_total')) >= 2);
      await phoneCall({ server, sipPort, dir, codec: 'pcmu', room: 'auth', phoneOptions: { authUser: 'alice', authPass: 's3cret' } });
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--auth-secret: a room name alone is refused, a room token in the user part joins', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-sip-token-'));
  const sipPort = await freeUdpTcpPort();
  const secret = 'sip-token-secret';
  const token = async (...extra) => (await runAtrium(['token', '--secret', secret, '--room', 'tok', ...extra])).stdout.trim();
  try {
    await withServer({ name: 'sip-token', args: ['--bind', '127.0.0.1', '--udp-port', '0', '--sip', `127.0.0.1:${sipPort}`, '--auth-secret', secret] }, async (server) => {
      const wav = path.join(dir, 'tone.wav');
      writeToneWav(wav, { freq: PHONE_HZ, seconds: 20, rate: 8000 });
      for (const target of ['tok', await token('--subscribe')]) { // no token; a token that may not publish
        const phone = await startBaresip({ sourceWav: wav, codecs: ['pcmu'], user: 'mallory', name: 'phone-notoken' });
        try {
          await phone.dial(`sip:${target}@127.0.0.1:${sipPort}`);
          await phone.waitEvent('CALL_CLOSED', 10_000);
          assert.ok(!phone.events.some((e) => e.type === 'CALL_ESTABLISHED'), `sip:${target.slice(0, 12)}... is not let in`);
        } finally {
          await phone.stop();
        }
      }
      await phoneCall({ server, sipPort, dir, codec: 'pcmu', room: 'tok', dial: await token('--publish'), pageToken: await token() });
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const PROBER = '127.0.0.2'; // its own loopback address: its INVITE flood does not rate-limit the phone's 127.0.0.1

function sipRequest({ method = 'INVITE', callId = `c${Math.random()}`, branch = `z9hG4bK${Math.random().toString(16).slice(2)}`, port, to = 'sip:bad@127.0.0.1', toTag = '', cseq = 1, body = '', omit = [] }) {
  const h = [
    `Via: SIP/2.0/UDP ${PROBER}:${port};branch=${branch};rport`,
    'From: <sip:prober@127.0.0.2>;tag=p1',
    `To: <${to}>${toTag ? `;tag=${toTag}` : ''}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    `Contact: <sip:prober@${PROBER}:${port}>`,
    'Max-Forwards: 70',
  ].filter((l) => !omit.some((o) => l.startsWith(o)));
  if (body) h.push('Content-Type: application/sdp');
  h.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${method} ${to} SIP/2.0\r\n${h.join('\r\n')}\r\n\r\n${body}`;
}

const offerSdp = (port) => `v=0\r\no=- 1 1 IN IP4 ${PROBER}\r\ns=-\r\nc=IN IP4 ${PROBER}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\n`;

test('bad SIP input is refused or dropped, and a phone call still works afterwards', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-sip-bad-'));
  const sipPort = await freeUdpTcpPort();
  const bind = async (host) => {
    const s = dgram.createSocket('udp4');
    await new Promise((r) => s.bind(0, host, r));
    return s;
  };
  const sock = await bind(PROBER);
  const rtp = await bind(PROBER); // where the raw call takes its RTP
  const stranger = await bind('127.0.0.3'); // RTP from an address the SDP did not name
  const port = sock.address().port;
  const replies = [];
  sock.on('message', (m) => replies.push(m.toString()));
  const send = (text) => new Promise((r) => sock.send(Buffer.from(text), sipPort, '127.0.0.1', r));
  const statusOf = (r) => Number(r.split(' ')[1]);
  const callIdOf = (r) => /Call-ID: (.*)\r\n/.exec(r)?.[1];
  const reply = (callId, status) => until(() => replies.find((r) => callIdOf(r) === callId && statusOf(r) === status),
    { timeoutMs: 5_000, what: `${status} for ${callId} (got ${replies.filter((r) => callIdOf(r) === callId).map(statusOf)})` });
  try {
    await withServer({ name: 'sip-bad', args: ['--bind', '127.0.0.1', '--udp-port', '0', '--sip', `127.0.0.1:${sipPort}`, '--sip-rate-limit', '5'] }, async (server) => {
      // Garbage, a bad start line, and requests missing what every transaction needs: dropped and counted.
      await send('\x00\x01garbage\r\n\r\n');
      await send('INVITE\r\n\r\n');
      await send(sipRequest({ port, omit: ['Call-ID'] }));
      await send(sipRequest({ port, omit: ['CSeq'] }));
      await send(sipRequest({ port, omit: ['Via'] }));
      await until(async () => (await metric(server, 'atrium_sip_malformed_total')) >= 5, { timeoutMs: 3_000, what: 'malformed counted' });
      // A 64 KiB SDP (as big as a datagram gets): parsed within the limits, the call rings; cancelled below.
      const big = (offerSdp(4000) + 'a=x-padding:').padEnd(64_000, 'y') + '\r\n';
      await send(sipRequest({ port, callId: 'big', to: 'sip:big@127.0.0.1', body: big }));
      await reply('big', 100);

      // A call answered for real, then RTP from a stranger: dropped and counted.
      await send(sipRequest({ port, callId: 'raw', to: 'sip:raw@127.0.0.1', body: offerSdp(rtp.address().port) }));
      const ok = (await reply('raw', 200)).value;
      const toTag = /To: .*;tag=([^;\r]*)/.exec(ok)[1];
      const mediaPort = Number(/m=audio (\d+)/.exec(ok)[1]);
      await send(sipRequest({ method: 'ACK', port, callId: 'raw', to: 'sip:raw@127.0.0.1', toTag }));
      const packet = Buffer.concat([Buffer.from([0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9]), Buffer.alloc(160, 0xff)]);
      for (let i = 0; i < 5; i += 1) await new Promise((r) => stranger.send(packet, mediaPort, '127.0.0.1', r));
      await until(async () => (await metric(server, 'atrium_sip_rtp_wrong_address_total')) >= 5, { timeoutMs: 3_000, what: 'RTP from a wrong address counted' });
      await send(sipRequest({ method: 'BYE', port, callId: 'raw', to: 'sip:raw@127.0.0.1', toTag, cseq: 2 }));
      await until(() => replies.find((r) => callIdOf(r) === 'raw' && / BYE\r\n/.test(r) && statusOf(r) === 200), { timeoutMs: 3_000, what: '200 to the BYE' });

      // BYE for a dialog that does not exist: 481. ACK without an INVITE: dropped, counted.
      await send(sipRequest({ method: 'BYE', port, callId: 'ghost', toTag: 'nope' }));
      await send(sipRequest({ method: 'ACK', port, callId: 'ghost2', toTag: 'nope' }));
      await reply('ghost', 481);
      await until(async () => (await metric(server, 'atrium_sip_stray_acks_total')) >= 1, { timeoutMs: 3_000, what: 'the stray ACK counted' });

      // An INVITE flood past --sip-rate-limit 5 per 10 s (2 of them used above): the rest get 503.
      for (let i = 0; i < 20; i += 1) await send(sipRequest({ port, callId: `flood${i}`, to: 'sip:flood@127.0.0.1', body: offerSdp(4000) }));
      await until(() => replies.filter((r) => statusOf(r) === 503).length >= 17, { timeoutMs: 5_000, what: `503s (${replies.map(statusOf).join(',')})` });
      assert.ok((await metric(server, 'atrium_sip_calls_refused_total')) >= 17);
      // End what the flood and the big SDP started: BYE what was answered, CANCEL what still rings.
      const invites = new Set(replies.filter((r) => / INVITE\r\n/.test(r)).map(callIdOf));
      for (const id of invites) {
        const answered = replies.find((r) => callIdOf(r) === id && statusOf(r) === 200 && / INVITE\r\n/.test(r));
        const final = replies.find((r) => callIdOf(r) === id && statusOf(r) >= 300);
        const to = id === 'big' ? 'sip:big@127.0.0.1' : 'sip:flood@127.0.0.1';
        if (answered) {
          const tag = /To: .*;tag=([^;\r]*)/.exec(answered)[1];
          await send(sipRequest({ method: 'ACK', port, callId: id, to, toTag: tag }));
          await send(sipRequest({ method: 'BYE', port, callId: id, to, toTag: tag, cseq: 2 }));
        } else if (!final) {
          const ringing = replies.find((r) => callIdOf(r) === id);
          const branch = /branch=([^;\r]*)/.exec(ringing)[1];
          await send(sipRequest({ method: 'CANCEL', port, callId: id, branch, to }));
        }
      }
      await until(async () => (await metric(server, 'atrium_sip_calls')) === 0, { timeoutMs: 5_000, what: 'no call left after the CANCELs' });
      console.log(`bad input: ${await metric(server, 'atrium_sip_malformed_total')} malformed, ${await metric(server, 'atrium_sip_unknown_dialog_total')} unknown dialogs, ` +
        `${await metric(server, 'atrium_sip_stray_acks_total')} stray ACKs, ${replies.filter((r) => statusOf(r) === 503).length} x 503, ` +
        `${await metric(server, 'atrium_sip_rtp_wrong_address_total')} RTP from a wrong address`);
      // The server still serves a phone.
      await phoneCall({ server, sipPort, dir, codec: 'pcmu', room: 'after-bad' });
    });
  } finally {
    for (const s of [sock, rtp, stranger]) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
