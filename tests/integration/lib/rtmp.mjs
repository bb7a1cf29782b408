// RTMP clients for the ingest tests: Debian's ffmpeg as a real publisher, and a small hand-written client that
// speaks just enough RTMP (handshake, chunks, AMF0 commands, FLV tags) to send what ffmpeg never would.
import { spawn } from 'node:child_process';
import net from 'node:net';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * ffmpeg publishing a 1280x720 test pattern (H264 baseline, no B-frames, a key frame every `gop` frames) and a
 * 1 kHz sine as AAC at 44.1 kHz to `url`. `bframes`: main... high profile with 2 B-frames instead (refused).
 * @returns {{proc, stderr: () => string, exited: Promise<{code, signal}>, stop: () => Promise<void>}}
 */
export function startFfmpeg(url, { bframes = false, gop = 60, size = '1280x720', seconds = 0, tone = 1000 } = {}) {
  const video = bframes
    ? ['-c:v', 'libx264', '-profile:v', 'high', '-bf', '2', '-preset', 'veryfast']
    : ['-c:v', 'libx264', '-profile:v', 'baseline', '-bf', '0', '-tune', 'zerolatency', '-preset', 'veryfast'];
  const args = ['-hide_banner', '-loglevel', 'info', '-nostdin', '-re',
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`,
    '-f', 'lavfi', '-i', `sine=frequency=${tone}:sample_rate=44100`,
    ...(seconds ? ['-t', String(seconds)] : []),
    ...video, '-g', String(gop), '-pix_fmt', 'yuv420p', '-b:v', '2000k',
    '-c:a', 'aac', '-ar', '44100', '-ac', '2', '-b:a', '128k',
    '-f', 'flv', url];
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (c) => { err = (err + c).slice(-20_000); });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    stderr: () => err,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

// --- AMF0 (what the raw client sends) ---
export function amf0(...values) {
  const parts = [];
  const str = (s) => { const b = Buffer.from(s, 'utf8'); const h = Buffer.alloc(2); h.writeUInt16BE(b.length); return Buffer.concat([h, b]); };
  const enc = (v) => {
    if (v === null) return Buffer.from([0x05]);
    if (typeof v === 'number') { const b = Buffer.alloc(9); b[0] = 0x00; b.writeDoubleBE(v, 1); return b; }
    if (typeof v === 'boolean') return Buffer.from([0x01, v ? 1 : 0]);
    if (typeof v === 'string') return Buffer.concat([Buffer.from([0x02]), str(v)]);
    if (Buffer.isBuffer(v)) return v; // raw, pre-encoded
    const body = Object.entries(v).map(([k, x]) => Buffer.concat([str(k), enc(x)]));
    return Buffer.concat([Buffer.from([0x03]), ...body, Buffer.from([0, 0, 0x09])]);
  };
  for (const v of values) parts.push(enc(v));
  return Buffer.concat(parts);
}

/** A raw RTMP client over one TCP connection (chunk size 128 each way unless set). */
export class RawRtmp {
  static async connect(port, host = '127.0.0.1') {
    const c = new RawRtmp();
    c.sock = net.connect(port, host);
    c.received = Buffer.alloc(0);
    c.closed = new Promise((resolve) => c.sock.once('close', resolve));
    c.sock.on('data', (d) => { c.received = Buffer.concat([c.received, d]).subarray(-1_000_000); });
    c.sock.on('error', () => {});
    await new Promise((resolve, reject) => { c.sock.once('connect', resolve); c.sock.once('error', reject); });
    c.chunkSize = 128;
    return c;
  }

  write(buf) { if (!this.sock.destroyed) this.sock.write(buf); }

  async handshake() {
    this.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, 7)]));
    const deadline = Date.now() + 5000;
    while (this.received.length < 1 + 1536 + 1536) {
      if (Date.now() > deadline) throw new Error(`no S0/S1/S2 (${this.received.length} bytes)`);
      await sleep(10);
    }
    this.write(this.received.subarray(1, 1537)); // C2 echoes S1
    this.received = this.received.subarray(3073);
  }

  // One message on chunk stream `csid`: a type-0 chunk, then type-3 continuations.
  message(csid, type, streamId, payload, { timestamp = 0, declaredLength = payload.length } = {}) {
    const h = Buffer.alloc(12);
    h[0] = csid & 0x3f;
    h.writeUIntBE(timestamp, 1, 3);
    h.writeUIntBE(declaredLength, 4, 3);
    h[7] = type;
    h.writeUInt32LE(streamId, 8);
    const parts = [h];
    for (let off = 0; off < payload.length; off += this.chunkSize) {
      if (off > 0) parts.push(Buffer.from([0xc0 | (csid & 0x3f)]));
      parts.push(payload.subarray(off, off + this.chunkSize));
    }
    this.write(Buffer.concat(parts));
  }

  setChunkSize(n) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    this.message(2, 1, 0, b);
    this.chunkSize = n > 0 && n < 0x7fffffff ? n : this.chunkSize;
  }

  command(name, txn, ...args) { this.message(3, 20, 0, amf0(name, txn, ...args)); }
  streamCommand(name, txn, ...args) { this.message(4, 20, 1, amf0(name, txn, ...args)); }

  // connect, createStream, publish to app/key.
  async publish(app, key) {
    this.command('connect', 1, { app, type: 'nonprivate', flashVer: 'FMLE/3.0', tcUrl: `rtmp://127.0.0.1/${app}` });
    this.command('createStream', 2, null);
    this.streamCommand('publish', 3, null, key, 'live');
    await sleep(200);
  }

  video(payload, timestamp = 0) { this.message(6, 9, 1, payload, { timestamp }); }
  audio(payload, timestamp = 0) { this.message(5, 8, 1, payload, { timestamp }); }

  text() { return this.received.toString('latin1'); }
  isClosed() { return this.sock.destroyed || this.sock.readyState === 'closed'; }
  close() { this.sock.destroy(); }
}
