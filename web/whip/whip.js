// A WHIP publisher and a WHEP viewer in a few lines of standard WebRTC (RFC 9725 and the WHEP draft). Exposed on
// `window.atrium` so tests can drive the same code a person clicks.
import { exchange, iceServers, hangUp, preferCodec, SIMULCAST_LAYERS } from './whip-client.js';

const $ = (id) => document.getElementById(id);
const log = (msg) => { $('log').textContent += `${new Date().toISOString().slice(11, 23)} ${msg}\n`; };

export { SIMULCAST_LAYERS };

export async function publish({ room, peer, codec, stream, simulcast = false } = {}) {
  // Simulcast needs a picture big enough for three sizes (browsers drop layers below ~320x180).
  const video = simulcast ? { width: 1280, height: 720 } : { width: 640, height: 480 };
  const media = stream || await navigator.mediaDevices.getUserMedia({ audio: true, video });
  const q = peer ? `?peer=${encodeURIComponent(peer)}` : '';
  const url = `${location.origin}/whip/${encodeURIComponent(room)}${q}`;
  const pc = new RTCPeerConnection({ iceServers: await iceServers(url) });
  for (const track of media.getTracks()) {
    const init = { direction: 'sendonly', streams: [media] };
    if (simulcast && track.kind === 'video') init.sendEncodings = SIMULCAST_LAYERS;
    const t = pc.addTransceiver(track, init);
    if (track.kind === 'video') preferCodec(t, codec);
  }
  const resource = await exchange(pc, url);
  log(`publishing to ${room} (${resource})`);
  return { pc, stream: media, resource, stop: () => hangUp(pc, resource, () => media.getTracks().forEach((t) => t.stop())) };
}

export async function watch({ room, source } = {}) {
  const q = source ? `?source=${encodeURIComponent(source)}` : '';
  const url = `${location.origin}/whep/${encodeURIComponent(room)}${q}`;
  const pc = new RTCPeerConnection({ iceServers: await iceServers(url) });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  const stream = new MediaStream();
  pc.ontrack = (e) => stream.addTrack(e.track);
  const resource = await exchange(pc, url);
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
