// SIP calls at real rates into one room: N callers, each a raw UDP user agent in this process that sends PCMU
// (a 20 ms packet every 20 ms, a tone, as a phone does) and takes the room's mix back. Reports the server's CPU
// per call (transcode G.711 -> Opus, the mix, the mix's G.711 encode, RTP in and out) and the latency the
// server adds mouth to ear: caller 0 goes from silence to a tone burst, and caller 1's received mix is
// decoded (mu-law) to find when the burst arrives.
//
//   node bench/sip_load.mjs [--calls "10 50"] [--seconds 10] [--bin build/release/src/server/atrium]
//
// Loopback only; it starts its own atrium (--sip on a free port).
import dgram from 'node:dgram';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const lib = path.join(here, '..', 'tests', 'integration', 'lib');
const { startServer, freePort } = await import(path.join(lib, 'server.mjs'));
const { processCpuSeconds, metric } = await import(path.join(lib, 'measure.mjs'));

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const counts = arg('--calls', '10 50').split(/\s+/).map(Number);
const seconds = Number(arg('--seconds', '10'));
process.env.ATRIUM_BIN ??= arg('--bin', path.join(here, '..', 'build', 'release', 'src', 'server', 'atrium'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// G.711 mu-law (ITU-T G.711), both ways, for the generated voice and the burst detection.
function ulawEncode(sample) {
  const BIAS = 0x84;
  let s = Math.max(-32635, Math.min(32635, Math.round(sample * 32767)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += BIAS;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp -= 1;
  const mant = (s >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}
function ulawDecode(code) {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return ((u & 0x80) ? 0x84 - t : t - 0x84) / 32768;
}

async function bind() {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  return s;
}

async function call(i, sipPort, room) {
  const sig = await bind();
  const rtp = await bind();
  const sdp = `v=0\r\no=- ${i} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${rtp.address().port} RTP/AVP 0\r\na=ptime:20\r\n`;
  const callId = `load-${i}-${Date.now()}`;
  const head = (method, cseq, toTag = '') => [
    `${method} sip:${room}@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${sig.address().port};branch=z9hG4bK${method}${i}${cseq};rport`,
    `From: "caller${i}" <sip:caller${i}@127.0.0.1>;tag=f${i}`,
    `To: <sip:${room}@127.0.0.1>${toTag ? `;tag=${toTag}` : ''}`,
    `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`, `Contact: <sip:caller${i}@127.0.0.1:${sig.address().port}>`];
  const ok = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`call ${i}: no 200 OK`)), 10_000);
    sig.on('message', (m) => {
      const t = m.toString();
      if (t.startsWith('SIP/2.0 200') && / INVITE\r\n/.test(t)) {
        clearTimeout(timer);
        resolve(t);
      }
    });
  });
  sig.send(`${head('INVITE', 1).join('\r\n')}\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`, sipPort, '127.0.0.1');
  const answer = await ok;
  const toTag = /To: .*;tag=([^;\r]*)/.exec(answer)[1];
  const mediaPort = Number(/m=audio (\d+)/.exec(answer)[1]);
  sig.send(`${head('ACK', 1, toTag).join('\r\n')}\r\nContent-Length: 0\r\n\r\n`, sipPort, '127.0.0.1');
  const c = { i, sig, rtp, mediaPort, seq: 0, ts: 0, ssrc: 0x1000 + i, received: 0, burstAt: null, heardAt: null, quiet: true };
  c.bye = () => sig.send(`${head('BYE', 2, toTag).join('\r\n')}\r\nContent-Length: 0\r\n\r\n`, sipPort, '127.0.0.1');
  rtp.on('message', (m) => {
    c.received += 1;
    if (c.heardAt !== null || !c.listen) return;
    let sum = 0;
    for (let k = 12; k < m.length; k += 1) sum += ulawDecode(m[k]) ** 2;
    if (Math.sqrt(sum / (m.length - 12)) > 0.05) c.heardAt = process.hrtime.bigint();
  });
  return c;
}

// One 20 ms PCMU packet: a quiet 300 Hz hum (below the mix's silence level: every caller is an input, none
// loud) or, for the burst, a loud 1 kHz tone.
function packet(c, loud) {
  const b = Buffer.alloc(12 + 160);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(c.seq & 0xffff, 2);
  b.writeUInt32BE(c.ts >>> 0, 4);
  b.writeUInt32BE(c.ssrc, 8);
  for (let k = 0; k < 160; k += 1) {
    const t = (c.ts + k) / 8000;
    b[12 + k] = ulawEncode(loud ? 0.5 * Math.sin(2 * Math.PI * 1000 * t) : 0.0005 * Math.sin(2 * Math.PI * 300 * t));
  }
  c.seq += 1;
  c.ts += 160;
  return b;
}

const results = [];
for (const n of counts) {
  const sipPort = await freePort();
  const server = await startServer({ name: `sip-load-${n}`, args: ['--bind', '127.0.0.1', '--udp-port', '0', '--sip', `127.0.0.1:${sipPort}`, '--sip-rate-limit', '1000', '--sip-max-calls', String(n + 10)], workers: 1 });
  try {
    const calls = [];
    for (let i = 0; i < n; i += 1) calls.push(await call(i, sipPort, 'load'));
    calls[1].listen = true;
    let tick = 0;
    const start = Date.now();
    const burstTick = 100; // 2 s in
    let cpu0 = null;
    let t0 = null;
    // 50 packets a second per caller, paced on the wall clock like a phone.
    while (Date.now() - start < (seconds + 3) * 1000) {
      const due = start + tick * 20;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      for (const c of calls) {
        const loud = c.i === 0 && tick >= burstTick;
        if (c.i === 0 && tick === burstTick) c.burstAt = process.hrtime.bigint();
        c.rtp.send(packet(c, loud), c.mediaPort, '127.0.0.1');
      }
      if (tick === 150) {
        cpu0 = processCpuSeconds(server.proc.pid);
        t0 = Date.now();
      }
      tick += 1;
    }
    const cpu = processCpuSeconds(server.proc.pid) - cpu0;
    const wall = (Date.now() - t0) / 1000;
    const latencyMs = calls[1].heardAt ? Number(calls[1].heardAt - calls[0].burstAt) / 1e6 : NaN;
    const received = calls.reduce((a, c) => a + c.received, 0);
    const transcoded = await metric(server, 'atrium_sip_transcoded_total');
    for (const c of calls) c.bye();
    await sleep(300);
    const r = { calls: n, cpuPercent: (100 * cpu) / wall, perCallPercent: (100 * cpu) / wall / n, latencyMs, mixPacketsPerCallPerSecond: received / n / (seconds + 3), transcoded };
    results.push(r);
    console.log(`${n} calls: server CPU ${r.cpuPercent.toFixed(1)} % of a core over ${wall.toFixed(1)} s = ${r.perCallPercent.toFixed(2)} % per call; ` +
      `mouth-to-ear through the server ${latencyMs.toFixed(1)} ms; ${r.mixPacketsPerCallPerSecond.toFixed(1)} mix packets/s per call; ${transcoded} packets transcoded`);
    for (const c of calls) {
      c.sig.close();
      c.rtp.close();
    }
  } finally {
    await server.stop();
  }
}
console.log(JSON.stringify(results));
