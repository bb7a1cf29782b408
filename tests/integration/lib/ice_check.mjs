// Hand-written ICE for tests that talk to the media ports without a browser: BUNDLEd offers in the shape browsers
// send (no DTLS is ever run with them), the server's ICE credentials read from an answer, and STUN binding
// requests (RFC 8489, MESSAGE-INTEGRITY and FINGERPRINT with node:crypto) and their answers.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

// ---- SDP --------------------------------------------------------------------------------------------------------

export const CLIENT_UFRAG = 'bAdI';
export const CLIENT_PWD = 'badInputClientPassword01';
export const FINGERPRINT = Array.from({ length: 32 }, (_, i) => ((i * 37 + 11) & 0xff).toString(16).padStart(2, '0'))
  .join(':')
  .toUpperCase();

/** A BUNDLEd audio + video offer in the shape browsers send; `codecs` per kind as [pt, rtpmap] pairs. */
export function offerSdp({ direction = 'sendonly', audio = [[111, 'opus/48000/2']], video = [[96, 'VP8/90000']] } = {}) {
  let sdp = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n' +
    'a=msid-semantic: WMS\r\n';
  [['audio', audio], ['video', video]].forEach(([kind, codecs], mid) => {
    sdp += `m=${kind} 9 UDP/TLS/RTP/SAVPF ${codecs.map(([pt]) => pt).join(' ')}\r\n` +
      'c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n' +
      `a=ice-ufrag:${CLIENT_UFRAG}\r\na=ice-pwd:${CLIENT_PWD}\r\na=ice-options:trickle\r\n` +
      `a=fingerprint:sha-256 ${FINGERPRINT}\r\na=setup:actpass\r\na=mid:${mid}\r\n` +
      `a=${direction}\r\na=rtcp-mux\r\n` +
      codecs.map(([pt, map]) => `a=rtpmap:${pt} ${map}\r\n`).join('');
    if (direction === 'sendonly') sdp += `a=ssrc:${1000 + mid} cname:badinput\r\n`;
  });
  return sdp;
}
export const WHIP_OFFER = offerSdp();
export const WHEP_OFFER = offerSdp({ direction: 'recvonly' });

/** The server's ICE credentials and UDP port from an answer. */
export function answerTransport(sdp) {
  const ufrag = /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
  const pwd = /^a=ice-pwd:(\S+)/m.exec(sdp)?.[1];
  const candidate = /^a=candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 (\d+) typ host/im.exec(sdp);
  assert.ok(ufrag && pwd && candidate, `answer without ICE credentials or a 127.0.0.1 candidate:\n${sdp}`);
  return { ufrag, pwd, port: Number(candidate[1]) };
}

// ---- STUN (RFC 8489), written and read here ----------------------------------------------------------------------

export const MAGIC_COOKIE = 0x2112a442;
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function attribute(type, value) {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

/** A binding request; `key` adds MESSAGE-INTEGRITY (spoiled by `wrongIntegrity`), FINGERPRINT always last. */
export function bindingRequest({ username, key, useCandidate = true, wrongIntegrity = false }) {
  const tid = crypto.randomBytes(12);
  const header = (length) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(0x0001, 0);
    h.writeUInt16BE(length, 2);
    h.writeUInt32BE(MAGIC_COOKIE, 4);
    tid.copy(h, 8);
    return h;
  };
  const priority = Buffer.alloc(4);
  priority.writeUInt32BE(0x6e7f1eff);
  let body = Buffer.concat([
    attribute(0x0006, Buffer.from(username)), // USERNAME
    attribute(0x0024, priority), // PRIORITY
    attribute(0x802a, crypto.randomBytes(8)), // ICE-CONTROLLING
    useCandidate ? attribute(0x0025, Buffer.alloc(0)) : Buffer.alloc(0), // USE-CANDIDATE
  ]);
  // MESSAGE-INTEGRITY: HMAC-SHA1 over the message up to it, with the length already counting it (24 bytes).
  const mac = crypto.createHmac('sha1', key).update(Buffer.concat([header(body.length + 24), body])).digest();
  if (wrongIntegrity) mac[7] ^= 0x5a;
  body = Buffer.concat([body, attribute(0x0008, mac)]);
  // FINGERPRINT: CRC-32 of everything before it, XOR 0x5354554e, the length counting its 8 bytes.
  const head = header(body.length + 8);
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(Buffer.concat([head, body])) ^ 0x5354554e) >>> 0);
  return { tid, bytes: Buffer.concat([head, body, attribute(0x8028, fp)]) };
}

export function parseStun(buf) {
  if (buf.length < 20 || buf.readUInt32BE(4) !== MAGIC_COOKIE) return null;
  const msg = { type: buf.readUInt16BE(0), tid: buf.subarray(8, 20), attrs: new Map() };
  for (let at = 20; at + 4 <= buf.length;) {
    const type = buf.readUInt16BE(at);
    const len = buf.readUInt16BE(at + 2);
    msg.attrs.set(type, buf.subarray(at + 4, at + 4 + len));
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  const error = msg.attrs.get(0x0009);
  if (error) msg.errorCode = (error[2] & 7) * 100 + error[3];
  const xor = msg.attrs.get(0x0020);
  if (xor && xor[1] === 0x01) {
    const ip = (xor.readUInt32BE(4) ^ MAGIC_COOKIE) >>> 0;
    msg.mapped = { port: xor.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16), ip: [24, 16, 8, 0].map((s) => (ip >>> s) & 0xff).join('.') };
  }
  return msg;
}
