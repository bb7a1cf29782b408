// WHIP/WHEP clients made of @roamhq/wrtc (libwebrtc in node), for tests that need many peers in one process:
// synthetic audio and video sources, publish/watch against atrium, and a frame counter on received video.
//
// No ICE servers, ever: the peer connections gather host candidates only and send connectivity checks only to the
// candidates in atrium's answer (loopback in the tests), so nothing leaves this machine.
import wrtc from '@roamhq/wrtc';

const { RTCPeerConnection, nonstandard } = wrtc;
const { RTCVideoSource, RTCVideoSink, RTCAudioSource } = nonstandard;

export const PEER_CONNECTION_CONFIG = Object.freeze({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });

// @roamhq/wrtc 0.10.0 crashes (SIGSEGV) in node's environment cleanup at exit once an RTCVideoSource or
// RTCAudioSource has existed, after everything else already finished: node's napi finalizers run into the
// addon (upstream: WonderInventions/node-webrtc#7, node-webrtc/node-webrtc#636). `node -e "new
// (require('@roamhq/wrtc').nonstandard.RTCVideoSource)()"` exits 139. A test file that used them would fail on its
// exit status although every test passed. So once a helper here made a native object, the process ends with
// process.exit(code) from an 'exit' listener: that exits right away with the code node already chose (1 when a
// test failed), skipping only the native cleanup. Listeners registered earlier (lib/server.mjs kills the servers
// it started) have run by then; it is registered lazily so that it comes after them.
let exitGuarded = false;
function guardExit() {
  if (exitGuarded) return;
  exitGuarded = true;
  process.on('exit', (code) => process.exit(code));
}

export function newPeerConnection() {
  guardExit();
  return new RTCPeerConnection({ ...PEER_CONNECTION_CONFIG, iceServers: [] });
}

/** Resolves once `pc` finished gathering candidates (host only: there are no ICE servers). */
export function iceGatheringComplete(pc, timeoutMs = 10_000) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ICE gathering not complete after ${timeoutMs} ms`)), timeoutMs);
    const check = () => {
      if (pc.iceGatheringState !== 'complete') return;
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    pc.addEventListener('icegatheringstatechange', check);
    check();
  });
}

/** Resolves once `pc.connectionState` is 'connected'; rejects on 'failed'/'closed' or after `timeoutMs`. */
export function connected(pc, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pc.removeEventListener('connectionstatechange', check);
      reject(new Error(`peer connection is ${pc.connectionState} after ${timeoutMs} ms`));
    }, timeoutMs);
    function check() {
      const state = pc.connectionState;
      if (state !== 'connected' && state !== 'failed' && state !== 'closed') return;
      clearTimeout(timer);
      pc.removeEventListener('connectionstatechange', check);
      if (state === 'connected') resolve();
      else reject(new Error(`peer connection ${state}`));
    }
    pc.addEventListener('connectionstatechange', check);
    check();
  });
}

/**
 * WHIP/WHEP offer/answer without trickle: the offer carries every candidate. POSTs it to `url`, applies the answer.
 * @returns {Promise<{location: string, sessionUrl: string, etag: string|null}>}
 */
export async function negotiate(pc, url, { headers = {} } = {}) {
  await pc.setLocalDescription(await pc.createOffer());
  await iceGatheringComplete(pc);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', ...headers },
    body: pc.localDescription.sdp,
  });
  const body = await response.text();
  if (response.status !== 201) throw new Error(`POST ${url} -> ${response.status}: ${body.trim()}`);
  const location = response.headers.get('location');
  if (!location) throw new Error(`POST ${url} -> 201 without Location`);
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  return { location, sessionUrl: new URL(location, url).href, etag: response.headers.get('etag') };
}

/**
 * A moving I420 test pattern (a diagonal gradient that scrolls, a bright bar that sweeps, a frame counter in the
 * chroma) fed to an RTCVideoSource on a timer, so the encoder always has changes to code.
 * @returns {{track: MediaStreamTrack, frames: () => number, stop: () => void}}
 */
export function syntheticVideo({ width = 320, height = 240, fps = 30 } = {}) {
  guardExit();
  const source = new RTCVideoSource();
  const track = source.createTrack();
  const ySize = width * height;
  const cSize = (width / 2) * (height / 2);
  const data = new Uint8Array(ySize + 2 * cSize);
  let n = 0;
  const timer = setInterval(() => {
    n += 1;
    const bar = (n * 4) % width;
    for (let y = 0; y < height; y += 1) {
      const row = y * width;
      for (let x = 0; x < width; x += 1) data[row + x] = (x + y + n * 3) & 0xff;
      for (let x = bar; x < Math.min(bar + 16, width); x += 1) data[row + x] = 235;
    }
    data.fill((n * 5) & 0xff, ySize, ySize + cSize);
    data.fill(255 - ((n * 3) & 0xff), ySize + cSize);
    source.onFrame({ width, height, data });
  }, 1000 / fps);
  return {
    track,
    frames: () => n,
    stop() {
      clearInterval(timer);
      track.stop();
    },
  };
}

/**
 * A 440 Hz tone, 48 kHz mono, fed in 10 ms chunks to an RTCAudioSource (the chunk size libwebrtc expects). The
 * timer is coarse; a late tick sends the chunks it owes so the source sees real time on average.
 * @returns {{track: MediaStreamTrack, stop: () => void}}
 */
export function syntheticAudio({ sampleRate = 48_000, frequency = 440 } = {}) {
  guardExit();
  const source = new RTCAudioSource();
  const track = source.createTrack();
  const perChunk = sampleRate / 100;
  const samples = new Int16Array(perChunk);
  let t = 0;
  let sent = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    const due = Math.floor((Date.now() - started) / 10);
    for (let k = 0; sent < due && k < 10; sent += 1, k += 1) {
      for (let i = 0; i < perChunk; i += 1, t += 1) {
        samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * frequency * t) / sampleRate));
      }
      source.onData({ samples, sampleRate, bitsPerSample: 16, channelCount: 1, numberOfFrames: perChunk });
    }
    sent = Math.max(sent, due - 10); // never try to catch up more than 100 ms
  }, 10);
  return {
    track,
    stop() {
      clearInterval(timer);
      track.stop();
    },
  };
}

/**
 * Publishes `tracks` (sendonly) with WHIP to `${baseUrl}/whip/${room}?peer=${peer}`.
 * @returns {Promise<{pc: RTCPeerConnection, sessionUrl: string, location: string}>}
 */
export async function publish(baseUrl, room, { peer, tracks, headers }) {
  const pc = newPeerConnection();
  try {
    for (const track of tracks) pc.addTransceiver(track, { direction: 'sendonly' });
    const query = peer ? `?peer=${encodeURIComponent(peer)}` : '';
    const session = await negotiate(pc, `${baseUrl}/whip/${encodeURIComponent(room)}${query}`, { headers });
    return { pc, ...session };
  } catch (error) {
    pc.close();
    throw error;
  }
}

/**
 * Watches a room with WHEP (recvonly audio + video). Counts decoded video frames with an RTCVideoSink.
 * @returns {Promise<{pc, sessionUrl, location, frames: () => number, width: () => number, height: () => number,
 *                    stop: () => void}>}
 */
export async function watch(baseUrl, room, { source, peer, headers } = {}) {
  const pc = newPeerConnection();
  let frames = 0;
  let width = 0;
  let height = 0;
  const sinks = [];
  pc.addEventListener('track', (event) => {
    if (event.track.kind !== 'video') return;
    const sink = new RTCVideoSink(event.track);
    sink.onframe = ({ frame }) => {
      frames += 1;
      width = frame.width;
      height = frame.height;
    };
    sinks.push(sink);
  });
  try {
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    const params = new URLSearchParams();
    if (source) params.set('source', source);
    if (peer) params.set('peer', peer);
    const query = params.size > 0 ? `?${params}` : '';
    const session = await negotiate(pc, `${baseUrl}/whep/${encodeURIComponent(room)}${query}`, { headers });
    return {
      pc,
      ...session,
      frames: () => frames,
      width: () => width,
      height: () => height,
      stop() {
        for (const sink of sinks) sink.stop();
        sinks.length = 0;
      },
    };
  } catch (error) {
    pc.close();
    throw error;
  }
}

/** inbound-rtp counters of a receiving peer connection: {audio: {mimeType, packetsReceived, ...}, video: {...}}. */
export async function inboundStats(pc) {
  const out = {};
  const report = await pc.getStats();
  const codecs = {};
  report.forEach((r) => {
    if (r.type === 'codec') codecs[r.id] = r.mimeType;
  });
  report.forEach((r) => {
    if (r.type !== 'inbound-rtp') return;
    const kind = r.kind ?? r.mediaType;
    out[kind] = {
      mimeType: codecs[r.codecId],
      packetsReceived: r.packetsReceived ?? 0,
      packetsLost: r.packetsLost ?? 0,
      bytesReceived: r.bytesReceived ?? 0,
      framesDecoded: r.framesDecoded,
      nackCount: r.nackCount,
      pliCount: r.pliCount,
    };
  });
  return out;
}
