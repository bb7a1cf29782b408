// A UDP relay between a WebRTC client and atrium that timestamps, one by one, the RTP packets atrium sends the
// client: the client is given the tap's port instead of atrium's (rewriteCandidates on the answer), the tap
// forwards both ways, and atrium sees the tap as the client. SRTP leaves the RTP header in the clear, so media
// packets are told from RTCP, STUN and DTLS by their first two bytes (RFC 7983, RFC 5761). The tap runs on its
// own worker thread, so a busy test thread (wrtc, fetch) cannot make a gap that atrium did not.
import { Worker } from 'node:worker_threads';

const TAP = `
const dgram = require('node:dgram');
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const target = workerData;
const socket = dgram.createSocket('udp4');
let client = null;
let times = new Float64Array(1 << 16);
let count = 0;
const now = () => performance.timeOrigin + performance.now();
socket.on('message', (msg, rinfo) => {
  if (rinfo.address === target.host && rinfo.port === target.port) {
    // RTP: version 2 (first byte 128-191), and a second byte outside 192-223 (that is RTCP).
    if (msg.length >= 12 && msg[0] >= 128 && msg[0] <= 191 && (msg[1] < 192 || msg[1] > 223)) {
      if (count === times.length) {
        const grown = new Float64Array(times.length * 2);
        grown.set(times);
        times = grown;
      }
      times[count++] = now();
    }
    if (client) socket.send(msg, client.port, client.address);
  } else {
    client = { address: rinfo.address, port: rinfo.port };
    socket.send(msg, target.port, target.host);
  }
});
parentPort.on('message', ({ id, from, to }) => {
  // The longest time without a media packet in [from, to], its edges included.
  let last = from;
  let gap = 0;
  let at = from;
  let packets = 0;
  for (let i = 0; i < count; i += 1) {
    const t = times[i];
    if (t < from) continue;
    if (t > to) break;
    packets += 1;
    if (t - last > gap) { gap = t - last; at = last; }
    last = t;
  }
  if (to - last > gap) { gap = to - last; at = last; }
  parentPort.postMessage({ id, gap, at, packets });
});
socket.bind(0, '127.0.0.1', () => parentPort.postMessage({ ready: socket.address().port }));
`;

/** Milliseconds on the clock the tap stamps packets with (comparable across threads). */
export const tapNow = () => performance.timeOrigin + performance.now();

/**
 * Starts a tap in front of atrium's UDP `port` on 127.0.0.1.
 * @returns {Promise<{port: number, gap: (from: number, to: number) => Promise<{gap: number, at: number, packets: number}>,
 *                    close: () => Promise<void>}>}
 */
export async function startRtpTap(port, host = '127.0.0.1') {
  const worker = new Worker(TAP, { eval: true, workerData: { host, port } });
  const tapPort = await new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m) => resolve(m.ready));
  });
  let next = 1;
  const waiting = new Map();
  worker.on('message', (m) => {
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  return {
    port: tapPort,
    gap(from, to) {
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        worker.postMessage({ id, from, to });
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}

/** atrium's UDP port in an answer, and the answer with every host candidate pointing at `tapPort` instead. */
export function candidatePort(sdp) {
  const m = /a=candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 (\d+) typ host/i.exec(sdp);
  if (!m) throw new Error(`no 127.0.0.1 host candidate in the answer:\n${sdp}`);
  return Number(m[1]);
}

export function rewriteCandidates(sdp, tapPort) {
  return sdp.replace(/(a=candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 )(\d+)( typ host)/gi, `$1${tapPort}$3`);
}
