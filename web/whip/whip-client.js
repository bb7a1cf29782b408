// The WHIP / WHEP client steps (RFC 9725 and the WHEP draft) in standard WebRTC, shared by the example page
// (whip.js) and the test harness page (tests/integration/pages/media.js).

// Waits until ICE gathering is done so the offer carries every candidate (no trickle needed on loopback/LAN).
export function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === 'complete') { pc.removeEventListener('icegatheringstatechange', done); resolve(); } };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, 2000);
  });
}

// RFC 9725 section 4.6 Link headers -> RTCIceServer[]: `<url>; rel="ice-server"[; username="..."; credential="...";
// credential-type="password"]`. fetch() joins repeated headers with ", ", so values are split on commas outside
// <...> and quotes.
export function parseIceServerLinks(header) {
  const links = [];
  let cur = '';
  let inUrl = false;
  let inQuote = false;
  for (let i = 0; i < (header ?? '').length; i++) {
    const c = header[i];
    if (inQuote && c === '\\') { cur += c + (header[++i] ?? ''); continue; }
    if (c === '"' && !inUrl) inQuote = !inQuote;
    else if (!inQuote && c === '<') inUrl = true;
    else if (!inQuote && c === '>') inUrl = false;
    if (c === ',' && !inUrl && !inQuote) { links.push(cur); cur = ''; continue; }
    cur += c;
  }
  if (cur.trim()) links.push(cur);
  const servers = [];
  for (const link of links) {
    const m = link.match(/^\s*<([^>]*)>(.*)$/);
    if (!m) continue;
    const params = {};
    for (const p of m[2].matchAll(/;\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g)) {
      params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
    }
    if (params.rel !== 'ice-server') continue;
    const server = { urls: m[1] };
    if (params.username !== undefined) server.username = params.username;
    if (params.credential !== undefined) server.credential = params.credential;
    servers.push(server);
  }
  return servers;
}

// The endpoint's ICE servers before the offer (atrium answers a plain OPTIONS with the same Link headers as the
// POST's 201): a browser gathers TURN candidates only from servers configured before setLocalDescription.
// [] when the endpoint gives none or OPTIONS fails.
export async function iceServers(url) {
  try {
    const res = await fetch(url, { method: 'OPTIONS' });
    return parseIceServerLinks(res.headers.get('Link'));
  } catch {
    return [];
  }
}

export async function exchange(pc, url) {
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
export async function hangUp(pc, resource, after = () => {}) {
  const res = await fetch(resource, { method: 'DELETE' });
  pc.close();
  after();
  if (res.status !== 200) throw new Error(`DELETE ${resource}: HTTP ${res.status}: ${await res.text()}`);
}

export function preferCodec(transceiver, codec) {
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
