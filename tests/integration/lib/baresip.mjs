// A real SIP phone for tests: a headless baresip 1.0.0 (Debian's baresip-core) with a config dir of its own, on
// loopback only, driven over its ctrl_tcp socket (netstring JSON commands, events back on the same socket).
//
// What it is made of (each fact checked against baresip 1.0.0, see ../../../shared/TEST-CLIENTS.md):
//  - `net_interface 127.0.0.1` + `sip_listen 127.0.0.1:PORT` (UDP and TCP), `dns_server 127.0.0.1:53`, RTP ports
//    from a small range; no stun/turn/ice/uuid modules; one account with `regint=0` (never REGISTERs);
//  - audio source: `aufile` playing the test's WAV (S16LE; the WAV's rate becomes `ausrc_srate`, baresip resamples
//    to the codec). When the file ends, the phone sends silence;
//  - what the phone hears: 1.0.0's aufile cannot record, so the `sndfile` filter dumps the decoded audio to
//    `SNDDIR/dump-<peer>-<timestamp>-dec.wav` (and what it sends to `...-enc.wav`); the player itself is
//    `aubridge,<unused name>`, a paced player that goes nowhere. `recordWav` gets a copy of the newest `-dec.wav`;
//  - codecs: `g711` (PCMU/PCMA) and `opus` (mono: `opus_stereo no`, `opus_sprop_stereo no`), forced per account
//    with `;audio_codecs=opus/48000/1` or `pcmu/8000/1`; telephone-event/8000 (0-15) is always offered;
//  - commands (menu.so's long commands, over ctrl_tcp): `dial URI`, `hangup`, `accept`, `sndcode DIGITS`
//    (RFC 4733 telephone-events in the RTP stream; they need telephone-event in the answer).
//
// Every instance is killed when the test process exits, even on a failure that skipped stop().
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { logDir, tail, waitForExit } from './server.mjs';
import { readWavHeader } from './audio_analysis.mjs';

export const BARESIP = process.env.BARESIP_BIN ?? '/usr/bin/baresip';
const MODULES = '/usr/lib/baresip/modules';

const live = new Set();
process.on('exit', () => {
  for (const proc of live) proc.kill('SIGKILL');
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// codecs as the test names them -> baresip 1.0.0's audio_codecs entries (name/srate/channels as registered).
const CODEC = { opus: 'opus/48000/1', pcmu: 'pcmu/8000/1', pcma: 'pcma/8000/1' };

function bindProbe(kind, port, host) {
  return new Promise((resolve) => {
    if (kind === 'tcp') {
      const s = net.createServer();
      s.unref();
      s.once('error', () => resolve(0));
      s.listen(port, host, () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    } else {
      const s = dgram.createSocket('udp4');
      s.unref();
      s.once('error', () => {
        s.close();
        resolve(0);
      });
      s.bind(port, host, () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    }
  });
}

/** A loopback port free for both UDP and TCP right now (baresip's sip_listen binds both). */
export async function freeUdpTcpPort(host = '127.0.0.1') {
  for (let i = 0; i < 50; i++) {
    const port = await bindProbe('udp', 0, host);
    if (port && (await bindProbe('tcp', port, host)) === port) return port;
  }
  throw new Error('no port free for both UDP and TCP');
}

// RTP port ranges: each instance gets its own 40 even+odd ports, away from the kernel's ephemeral range
// (32768-60999), so two phones and the server do not race for the same ports.
let rtpBase = 21000 + (process.pid % 200) * 40;
function nextRtpRange() {
  const lo = rtpBase;
  rtpBase += 40;
  if (rtpBase > 30000) rtpBase = 21000;
  return `${lo}-${lo + 39}`;
}

/**
 * Starts a headless baresip and waits until its ctrl_tcp socket answers.
 * @param {object} [o]
 * @param {string} o.sourceWav   the WAV it plays into calls (16-bit PCM, mono; 8 or 48 kHz, see writeToneWav)
 * @param {string} [o.recordWav] after stop(), a copy of what it heard (the newest decoded dump) is written here
 * @param {string[]} [o.codecs]  e.g. ['opus'] or ['pcmu'] (order = preference); default: opus, pcmu, pcma offered
 * @param {boolean} [o.autoAnswer] answer incoming calls at once (`;answermode=auto`)
 * @param {number} [o.sipPort]   its SIP port (UDP and TCP on 127.0.0.1); default a free one
 * @param {string} [o.user]      the account's user part: incoming calls must be addressed to it
 *                               (sip:USER@127.0.0.1:PORT); 1.0.0 answers 404 for any other user
 * @param {string} [o.displayName] the From display name
 * @param {string} [o.authUser] [o.authPass] digest credentials for challenges (`;auth_user=`/`;auth_pass=`)
 * @param {string} [o.name]      log and dir name prefix
 * @param {number} [o.ptime]     packet time in ms (default 20)
 * @param {string[]} [o.extraConfig] more config lines
 * @param {string} [o.extraAccountParams] appended to the account line, e.g. ';mediaenc=srtp'
 */
export async function startBaresip({ sourceWav, recordWav = null, codecs = null, autoAnswer = false, sipPort = 0,
                                     user = 'phone', displayName = null, authUser = null, authPass = null,
                                     name = 'baresip', ptime = 20, extraConfig = [], extraAccountParams = '',
                                     readyTimeoutMs = 5_000 } = {}) {
  if (!sourceWav || !fs.existsSync(sourceWav)) throw new Error(`startBaresip: sourceWav ${sourceWav} does not exist`);
  const wav = readWavHeader(sourceWav);
  if (wav.format !== 1 || wav.bits !== 16) throw new Error(`${sourceWav}: aufile needs 16-bit PCM, not format ${wav.format}/${wav.bits} bits`);
  const port = sipPort || (await freeUdpTcpPort());
  const ctrlPort = await freeUdpTcpPort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  const sndDir = path.join(dir, 'snd');
  fs.mkdirSync(sndDir);
  const list = (codecs ?? []).map((c) => {
    const v = CODEC[c.toLowerCase()];
    if (!v) throw new Error(`startBaresip: unknown codec ${c} (known: ${Object.keys(CODEC).join(', ')})`);
    return v;
  });
  const config = [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${port}`,
    'net_interface 127.0.0.1',
    'dns_server 127.0.0.1:53',
    'call_local_timeout 120',
    'call_max_calls 4',
    `audio_source aufile,${path.resolve(sourceWav)}`,
    'audio_player aubridge,atrium-nowhere',
    'audio_alert aubridge,atrium-nowhere',
    `ausrc_srate ${wav.rate}`,
    `ausrc_channels ${wav.channels}`,
    'audio_buffer 20-160',
    `rtp_ports ${nextRtpRange()}`,
    'rtp_timeout 0',
    'rtcp_mux no',
    'jitter_buffer_delay 5-10',
    'rtp_stats yes',
    `module_path ${MODULES}`,
    'module ctrl_tcp.so',
    'module opus.so', // the order here is the default offer's order
    'module g711.so',
    'module aufile.so',
    'module aubridge.so',
    'module sndfile.so',
    'module_tmp account.so',
    'module_app menu.so',
    'statmode_default off', // no "[0:00:01] audio=..." status line in the log
    `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
    `snd_path ${sndDir}`,
    'opus_stereo no',
    'opus_sprop_stereo no',
    'opus_bitrate 32000',
    ...extraConfig,
  ];
  fs.writeFileSync(path.join(dir, 'config'), `${config.join('\n')}\n`);
  let account = `${displayName ? `"${displayName}" ` : ''}<sip:${user}@127.0.0.1:${port}>;regint=0;ptime=${ptime}`;
  account += `;answermode=${autoAnswer ? 'auto' : 'manual'}`;
  if (list.length) account += `;audio_codecs=${list.join(',')}`;
  if (authUser) account += `;auth_user=${authUser}`;
  if (authPass) account += `;auth_pass=${authPass}`;
  account += extraAccountParams;
  fs.writeFileSync(path.join(dir, 'accounts'), `${account}\n`);
  fs.writeFileSync(path.join(dir, 'contacts'), '');

  let logFile = path.join(logDir(), `${name}-${process.pid}-${port}.log`);
  for (let n = 2; fs.existsSync(logFile); n++) logFile = path.join(logDir(), `${name}-${process.pid}-${port}-${n}.log`);
  const log = fs.openSync(logFile, 'a'); // O_APPEND: the harness's own lines go in too
  fs.writeSync(log, `$ ${BARESIP} -f ${dir}\n# accounts: ${account}\n`);
  // stdin: ignored (no stdio.so, so nothing reads it; with /dev/null 1.0.0's stdio module fails to epoll it).
  const proc = spawn(BARESIP, ['-f', dir], { stdio: ['ignore', log, log] });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  const note = (line) => {
    try {
      fs.appendFileSync(logFile, `[harness ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
    } catch {
      // the log dir went away
    }
  };

  const events = [];
  const waiters = new Set();
  let text = ''; // the log as read so far, for waitFor
  const pending = new Map();
  let token = 0;
  let sock = null;
  let inbuf = Buffer.alloc(0);

  const wake = () => {
    for (const w of [...waiters]) w.check();
  };
  const onMessage = (msg) => {
    if (msg.event) {
      events.push({ ...msg, at: Date.now() });
      note(`event ${msg.type}${msg.param ? ` param=${msg.param}` : ''}${msg.peeruri ? ` peer=${msg.peeruri}` : ''}`);
      wake();
    } else if (msg.response) {
      const p = pending.get(msg.token);
      if (p) {
        pending.delete(msg.token);
        note(`response ${msg.token} ok=${msg.ok}${msg.data ? ` data=${JSON.stringify(msg.data).slice(0, 300)}` : ''}`);
        p.resolve(msg);
      }
    }
  };
  const onData = (chunk) => {
    inbuf = Buffer.concat([inbuf, chunk]);
    for (;;) {
      const colon = inbuf.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(inbuf.subarray(0, colon).toString());
      if (!Number.isInteger(len) || inbuf.length < colon + 1 + len + 1) return;
      const body = inbuf.subarray(colon + 1, colon + 1 + len).toString();
      inbuf = inbuf.subarray(colon + 2 + len);
      try {
        onMessage(JSON.parse(body));
      } catch (e) {
        note(`ctrl_tcp: unparsable ${body.slice(0, 200)} (${e.message})`);
      }
    }
  };

  const phone = {
    proc, dir, logFile, sndDir, sipPort: port, ctrlPort, user, events,
    /** sip:USER@127.0.0.1:PORT, what another party dials to reach this phone. */
    uri: `sip:${user}@127.0.0.1:${port}`,
    tail: (lines) => tail(logFile, lines),
    /** Any menu long command, e.g. command('listcalls'). Resolves with ctrl_tcp's {ok, data}. */
    command(cmd, params = '', timeoutMs = 3_000) {
      if (!sock) return Promise.reject(new Error('baresip ctrl_tcp is not connected'));
      const t = String(++token);
      const j = JSON.stringify(params ? { command: cmd, params, token: t } : { command: cmd, token: t });
      note(`command ${cmd}${params ? ` ${params}` : ''} (token ${t})`);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(t);
          reject(new Error(`baresip: no answer to "${cmd}" in ${timeoutMs} ms; log ${logFile}:\n${tail(logFile)}`));
        }, timeoutMs);
        pending.set(t, { resolve: (m) => { clearTimeout(timer); resolve(m); } });
        sock.write(`${Buffer.byteLength(j)}:${j},`);
      });
    },
    async dial(uri) {
      const r = await phone.command('dial', uri);
      if (!r.ok) throw new Error(`baresip dial ${uri}: ${r.data}`);
      return r;
    },
    /** Hangs up the current call (BYE, or CANCEL while it rings). */
    hangup: () => phone.command('hangup'),
    /** Answers the ringing incoming call (without autoAnswer). */
    accept: () => phone.command('accept'),
    /**
     * Sends DTMF digits (0-9 * # A-D) as RFC 4733 telephone-events, one after the other, `gapMs` apart.
     * baresip's `sndcode` sends all its digits back to back; each digit sent on its own, with a pause and a key
     * release, gives each its own event with a real duration.
     */
    async sendDtmf(digits, { gapMs = 250 } = {}) {
      for (const d of String(digits)) {
        const r = await phone.command('sndcode', d);
        if (!r.ok) throw new Error(`baresip sndcode ${d}: ${r.data}`);
        await sleep(gapMs);
      }
    },
    /**
     * Waits until `pattern` (RegExp or string) appears in the log (baresip's output plus the ctrl_tcp events,
     * written as "event CALL_ESTABLISHED ..."). Resolves with the match; on timeout, throws with the log's tail.
     * `since`: only text after this offset (phone.mark()) counts.
     */
    waitFor(pattern, ms = 10_000, { since = 0 } = {}) {
      const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
      return new Promise((resolve, reject) => {
        const w = {
          check() {
            try {
              text = fs.readFileSync(logFile, 'utf8');
            } catch {
              // keep the last text
            }
            const m = re.exec(text.slice(since));
            if (m) done(null, m);
            else if (proc.exitCode !== null || proc.signalCode !== null) done(new Error(`baresip exited (${proc.exitCode ?? proc.signalCode}) while waiting for ${re}; log ${logFile}:\n${tail(logFile)}`));
          },
        };
        const poll = setInterval(() => w.check(), 50);
        const timer = setTimeout(() => done(new Error(`baresip: ${re} not seen within ${ms} ms; log ${logFile}, last lines:\n${tail(logFile, 60)}`)), ms);
        function done(err, m) {
          clearInterval(poll);
          clearTimeout(timer);
          waiters.delete(w);
          if (err) {
            console.error(err.message);
            reject(err);
          } else resolve(m);
        }
        waiters.add(w);
        w.check();
      });
    },
    /** The log's current length: pass as {since} to wait for something that happens after now. */
    mark() {
      try {
        return fs.readFileSync(logFile, 'utf8').length;
      } catch {
        return 0;
      }
    },
    /** Waits for a ctrl_tcp event of this type (e.g. 'CALL_ESTABLISHED', 'CALL_CLOSED', 'CALL_DTMF_START'). */
    async waitEvent(type, ms = 10_000, { after = 0 } = {}) {
      const found = () => events.find((e) => e.type === type && e.at >= after);
      if (found()) return found();
      await phone.waitFor(new RegExp(`event ${type}\\b`), ms, { since: 0 }).catch((e) => { if (!found()) throw e; });
      const e = found();
      if (!e) return phone.waitEvent(type, ms, { after });
      return e;
    },
    /** DTMF digits this phone received (from CALL_DTMF_START events), in order, as one string. */
    receivedDigits: () => events.filter((e) => e.type === 'CALL_DTMF_START').map((e) => e.param).join(''),
    /** The decoded-audio dumps written so far (one per call), oldest first. */
    decodedWavs() {
      return fs.readdirSync(sndDir).filter((f) => f.endsWith('-dec.wav')).map((f) => path.join(sndDir, f))
        .sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs);
    },
    /** The encoded-side dumps (what the phone sent), oldest first. */
    encodedWavs() {
      return fs.readdirSync(sndDir).filter((f) => f.endsWith('-enc.wav')).map((f) => path.join(sndDir, f))
        .sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs);
    },
    /** Quits baresip (ctrl_tcp "quit", then SIGTERM, then SIGKILL), copies the newest recording to recordWav. */
    async stop({ timeoutMs = 3_000 } = {}) {
      if (proc.exitCode === null && proc.signalCode === null) {
        if (sock) {
          const j = JSON.stringify({ command: 'quit', token: 'quit' });
          try { sock.write(`${Buffer.byteLength(j)}:${j},`); } catch { /* closed */ }
        }
        let r = await waitForExit(proc, timeoutMs);
        if (!r) {
          proc.kill('SIGTERM');
          r = await waitForExit(proc, timeoutMs);
        }
        if (!r) {
          proc.kill('SIGKILL');
          await waitForExit(proc, 2_000);
        }
      }
      sock?.destroy();
      const recs = fs.existsSync(sndDir) ? phone.decodedWavs() : [];
      if (recordWav && recs.length) fs.copyFileSync(recs[recs.length - 1], recordWav);
      return { code: proc.exitCode, signal: proc.signalCode, recording: recs[recs.length - 1] ?? null };
    },
  };

  // ctrl_tcp listens once the modules are loaded: connect with retries.
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`baresip exited (${proc.exitCode ?? proc.signalCode}) at start; log ${logFile}:\n${tail(logFile)}`);
    }
    try {
      sock = await new Promise((resolve, reject) => {
        const s = net.connect(ctrlPort, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
      break;
    } catch {
      if (Date.now() > deadline) {
        await phone.stop();
        throw new Error(`baresip ctrl_tcp did not listen within ${readyTimeoutMs} ms; log ${logFile}:\n${tail(logFile)}`);
      }
      await sleep(50);
    }
  }
  sock.on('data', onData);
  sock.on('error', (e) => note(`ctrl_tcp error: ${e.message}`));
  sock.on('close', () => { sock = null; });
  try {
    await phone.waitFor(/baresip is ready/, readyTimeoutMs);
  } catch (e) {
    await phone.stop();
    throw e;
  }
  return phone;
}

/**
 * Runs fn(phones) with phones started from each options object; prints each log's tail when fn throws; always
 * stops them. `withBaresip([{...}, {...}], async ([a, b]) => {...})`.
 */
export async function withBaresip(optionsList, fn) {
  const phones = [];
  try {
    for (const o of optionsList) phones.push(await startBaresip(o));
    return await fn(phones);
  } catch (error) {
    for (const p of phones) console.error(`--- baresip log (${p.logFile}), last lines ---\n${p.tail(60)}\n---`);
    throw error;
  } finally {
    for (const p of phones) await p.stop();
  }
}
