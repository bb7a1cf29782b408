// A WHIP publisher and a WHEP viewer in a few lines of standard WebRTC (RFC 9725 and the WHEP draft). Exposed on
// `window.atrium` so tests can drive the same code a person clicks.
const $ = (id) => document.getElementById(id);
const log = (msg) => { $('log').textContent += `${new Date().toISOString().slice(11, 23)} ${msg}\n`; };

// Waits until ICE gathering is done so the offer carries every candidate (no trickle needed on loopback/LAN).
function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === 'complete') { pc.removeEventListener('icegatheringstatechange', done); resolve(); } };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, 2000);
  });
}

async function exchange(pc, url) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`${url}: HTTP ${res.status}: ${text}`);
  await pc.setRemoteDescription({ type: 'answer', sdp: text });
  return new URL(res.headers.get('Location'), url).toString();
}

// DELETE first so the server tears down on our request (not on the DTLS close that pc.close() sends), and
// report what it said.
async function hangUp(pc, resource, after = () => {}) {
  const res = await fetch(resource, { method: 'DELETE' });
  pc.close();
  after();
  if (res.status !== 200) throw new Error(`DELETE ${resource}: HTTP ${res.status}: ${await res.text()}`);
}

function preferCodec(transceiver, codec) {
  if (!codec) return;
  const caps = RTCRtpReceiver.getCapabilities('video').codecs;
  // Only the chosen codec (and RTX for retransmissions), so the server cannot pick another one.
  const chosen = caps.filter((c) => c.mimeType.toLowerCase() === `video/${codec.toLowerCase()}`);
  const rtx = caps.filter((c) => c.mimeType.toLowerCase() === 'video/rtx');
  if (chosen.length) transceiver.setCodecPreferences([...chosen, ...rtx]);
}

// Three simulcast layers, lowest first (the server orders l/m/h by name anyway).
export const SIMULCAST_LAYERS = [
  { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

export async function publish({ room, peer, codec, stream, simulcast = false } = {}) {
  // Simulcast needs a picture big enough for three sizes (browsers drop layers below ~320x180).
  const video = simulcast ? { width: 1280, height: 720 } : { width: 640, height: 480 };
  const media = stream || await navigator.mediaDevices.getUserMedia({ audio: true, video });
  const pc = new RTCPeerConnection();
  for (const track of media.getTracks()) {
    const init = { direction: 'sendonly', streams: [media] };
    if (simulcast && track.kind === 'video') init.sendEncodings = SIMULCAST_LAYERS;
    const t = pc.addTransceiver(track, init);
    if (track.kind === 'video') preferCodec(t, codec);
  }
  const q = peer ? `?peer=${encodeURIComponent(peer)}` : '';
  const resource = await exchange(pc, `${location.origin}/whip/${encodeURIComponent(room)}${q}`);
  log(`publishing to ${room} (${resource})`);
  return { pc, stream: media, resource, stop: () => hangUp(pc, resource, () => media.getTracks().forEach((t) => t.stop())) };
}

export async function watch({ room, source } = {}) {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  const stream = new MediaStream();
  pc.ontrack = (e) => stream.addTrack(e.track);
  const q = source ? `?source=${encodeURIComponent(source)}` : '';
  const resource = await exchange(pc, `${location.origin}/whep/${encodeURIComponent(room)}${q}`);
  log(`watching ${room} (${resource})`);
  return { pc, stream, resource, stop: () => hangUp(pc, resource) };
}

// What a test (or a curious person in the console) wants to know about a connection's media.
export async function inboundStats(pc) {
  const out = {};
  (await pc.getStats()).forEach((r) => {
    if (r.type === 'inbound-rtp') out[r.kind] = { framesDecoded: r.framesDecoded, frameWidth: r.frameWidth, frameHeight: r.frameHeight, packetsReceived: r.packetsReceived, bytesReceived: r.bytesReceived, packetsLost: r.packetsLost, nackCount: r.nackCount, freezeCount: r.freezeCount, totalFreezesDuration: r.totalFreezesDuration, pliCount: r.pliCount };
  });
  return out;
}

// Per simulcast layer (by rid; '' without simulcast): what the browser encodes and sends.
export async function outboundStats(pc) {
  const out = {};
  (await pc.getStats()).forEach((r) => {
    if (r.type === 'outbound-rtp' && r.kind === 'video') out[r.rid ?? ''] = { bytesSent: r.bytesSent, framesEncoded: r.framesEncoded, frameWidth: r.frameWidth, active: r.active, qualityLimitationReason: r.qualityLimitationReason };
  });
  return out;
}

window.atrium = { publish, watch, inboundStats, outboundStats };

let pub = null;
let view = null;
$('publish').onclick = async () => {
  try {
    pub = await publish({ room: $('room').value, codec: $('codec').value, simulcast: $('simulcast').checked });
    $('local').srcObject = pub.stream;
    $('publish').disabled = true; $('unpublish').disabled = false;
  } catch (e) { log(e.message); }
};
$('unpublish').onclick = async () => { await pub?.stop(); pub = null; $('publish').disabled = false; $('unpublish').disabled = true; };
$('watch').onclick = async () => {
  try {
    view = await watch({ room: $('room').value });
    $('remote').srcObject = view.stream;
    $('watch').disabled = true; $('unwatch').disabled = false;
  } catch (e) { log(e.message); }
};
$('unwatch').onclick = async () => { await view?.stop(); view = null; $('watch').disabled = false; $('unwatch').disabled = true; };
