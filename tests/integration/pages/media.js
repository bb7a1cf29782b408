// A WHIP publisher (optionally simulcast) and a WHEP viewer for tests, plus the getStats() numbers they look at.
// Uses the WHIP/WHEP client steps of the example page (web/whip/whip-client.js), without its buttons.
import { exchange, iceServers, hangUp as whipHangUp, preferCodec, SIMULCAST_LAYERS as SIMULCAST_ENCODINGS } from '/web/whip/whip-client.js';

export { SIMULCAST_ENCODINGS };

// A test tears down whatever state the server is in: a failed DELETE is not the test's concern.
async function hangUp(pc, resource) {
  await whipHangUp(pc, resource).catch(() => pc.close());
}

export async function publish({ room, peer, codec = 'VP8', simulcast = false, audio = true } = {}) {
  const video = simulcast ? { width: 1280, height: 720 } : { width: 640, height: 480 };
  const stream = await navigator.mediaDevices.getUserMedia({ audio, video });
  document.getElementById('video').srcObject = stream;
  const q = peer ? `?peer=${encodeURIComponent(peer)}` : '';
  const url = `${location.origin}/whip/${encodeURIComponent(room)}${q}`;
  const pc = new RTCPeerConnection({ iceServers: await iceServers(url) });
  for (const track of stream.getTracks()) {
    const init = { direction: 'sendonly', streams: [stream] };
    if (track.kind === 'video' && simulcast) init.sendEncodings = SIMULCAST_ENCODINGS;
    const t = pc.addTransceiver(track, init);
    if (track.kind === 'video') preferCodec(t, codec);
  }
  const resource = await exchange(pc, url);
  window.pc = pc;
  return resource;
}

export async function watch({ room, source } = {}) {
  const q = source ? `?source=${encodeURIComponent(source)}` : '';
  const url = `${location.origin}/whep/${encodeURIComponent(room)}${q}`;
  const started = performance.now();
  const pc = new RTCPeerConnection({ iceServers: await iceServers(url) });
  // From the start of watch() (OPTIONS for the ICE servers, gathering, POST) to the media connection being up.
  pc.addEventListener('connectionstatechange', () => {
    if (pc.connectionState === 'connected' && window.connectMs === undefined) {
      window.connectMs = performance.now() - started;
      if (window.answeredAt !== undefined) window.connectAfterAnswerMs = performance.now() - window.answeredAt;
    }
  });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  const stream = new MediaStream();
  pc.ontrack = (e) => {
    stream.addTrack(e.track);
    document.getElementById('video').srcObject = stream;
  };
  const resource = await exchange(pc, url);
  window.answeredAt ??= performance.now();
  window.pc = pc;
  return resource;
}

const pick = (r, keys) => Object.fromEntries(keys.filter((k) => r[k] !== undefined).map((k) => [k, r[k]]));

// Receiver side: inbound-rtp per kind (video: decoding, freezes, NACKs), plus the transport's candidate pair.
export async function inbound() {
  const out = { at: performance.now() };
  (await window.pc.getStats()).forEach((r) => {
    if (r.type === 'inbound-rtp') {
      out[r.kind] = pick(r, ['framesDecoded', 'framesReceived', 'framesDropped', 'keyFramesDecoded', 'frameWidth',
        'frameHeight', 'framesPerSecond', 'freezeCount', 'totalFreezesDuration', 'pauseCount', 'totalPausesDuration',
        'nackCount', 'pliCount', 'firCount', 'packetsReceived', 'packetsLost', 'bytesReceived', 'jitter',
        'retransmittedPacketsReceived', 'concealedSamples', 'totalSamplesReceived']);
    }
    if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') {
      out.transport = pick(r, ['currentRoundTripTime', 'availableIncomingBitrate', 'availableOutgoingBitrate']);
    }
  });
  return out;
}

// Sender side: one entry per video outbound-rtp (per rid with simulcast; rid '' without), plus audio.
export async function outbound() {
  const out = { at: performance.now(), video: {}, audio: null };
  (await window.pc.getStats()).forEach((r) => {
    if (r.type === 'outbound-rtp' && r.kind === 'video') {
      out.video[r.rid ?? ''] = pick(r, ['rid', 'bytesSent', 'packetsSent', 'framesEncoded', 'framesSent', 'frameWidth',
        'frameHeight', 'framesPerSecond', 'targetBitrate', 'active', 'qualityLimitationReason', 'nackCount', 'pliCount',
        'retransmittedPacketsSent', 'keyFramesEncoded']);
    }
    if (r.type === 'outbound-rtp' && r.kind === 'audio') out.audio = pick(r, ['bytesSent', 'packetsSent']);
    if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') {
      out.transport = pick(r, ['currentRoundTripTime', 'availableOutgoingBitrate']);
    }
  });
  return out;
}

export async function stop() {
  window.pc?.getSenders().forEach((s) => s.track?.stop());
  if (window.pc && window.resource) await hangUp(window.pc, window.resource);
}

// The selected candidate pair of `pc` (the page's WHIP/WHEP one by default) as getStats() tells it: local/remote
// candidate types, the relay's protocol.
export async function selectedPair(pc = window.pc) {
  const stats = await pc.getStats();
  let pair = null;
  stats.forEach((r) => { if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId); });
  if (!pair) stats.forEach((r) => { if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r; });
  if (!pair) return null;
  const local = stats.get(pair.localCandidateId) ?? {};
  const remote = stats.get(pair.remoteCandidateId) ?? {};
  return { state: pair.state, local: pick(local, ['candidateType', 'protocol', 'relayProtocol', 'address', 'port', 'url']),
    remote: pick(remote, ['candidateType', 'protocol', 'address', 'port']), connectMs: window.connectMs,
    connectAfterAnswerMs: window.connectAfterAnswerMs };
}

window.media = {
  selectedPair,
  publish: async (o) => (window.resource = await publish(o)),
  watch: async (o) => (window.resource = await watch(o)),
  inbound,
  outbound,
  stop,
};
