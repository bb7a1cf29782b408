// Pages that use the room SDK as an application would: the real compiled module (/web/sdk/atrium.js, served by
// atrium from the build tree), imported into a page of the server's own origin. Each page keeps what it saw in
// `window.t`: the room, every event with a timestamp, and helpers the tests call through page.evaluate.
import assert from 'node:assert/strict';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A page on the server's origin with the SDK loaded as `window.sdk` (no room yet). */
export async function sdkPage(browser, server) {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log(`[page] ${m.text()}`); });
  await page.goto(`${server.browserUrl}/`);
  await page.evaluate(async () => { window.sdk = await import('/web/sdk/atrium.js'); });
  return page;
}

/**
 * Joins a room from `page`. publish: camera + microphone ('camera', 'audio'); subscribeAll: attach every track
 * announced (auto mode). Resolves with the peer id; rejects with the SDK's error code in the message.
 */
export async function join(page, { room, peer, peers, tracks, token, publish = true, subscribeAll = true }) {
  return page.evaluate(async (o) => {
    const t = { events: [], errors: [] };
    window.t = t;
    const media = o.publish ? await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } }) : null;
    let room;
    try {
      room = await window.sdk.connect(location.origin, {
        room: o.room, peer: o.peer, meta: { name: o.peer }, peers: o.peers, tracks: o.tracks, token: o.token,
      });
    } catch (e) {
      media?.getTracks().forEach((m) => m.stop());
      return { error: e.code ?? String(e) };
    }
    t.room = room;
    t.media = media;
    const names = ['peer_joined', 'peer_left', 'peer_meta', 'track_published', 'track_unpublished', 'track_meta',
      'receiver_state', 'message', 'error', 'disconnected', 'reconnected', 'closed'];
    for (const n of names) room.on(n, (e) => t.events.push({ at: Date.now(), event: n, ...e }));
    const attach = (tr) => room.subscribe(tr.peer, tr.track).catch((e) => t.errors.push(`${tr.peer}/${tr.track}: ${e.code}`));
    // What was announced during connect() (before on()) is in the room's state.
    for (const p of room.peers.values()) t.events.push({ at: Date.now(), event: 'peer_joined', snapshot: true, ...p });
    for (const tr of room.tracks.values()) t.events.push({ at: Date.now(), event: 'track_published', snapshot: true, ...tr });
    if (o.subscribeAll) {
      room.on('track_published', attach);
      room.tracks.forEach(attach);
    }
    if (media) {
      await room.publish(media.getAudioTracks()[0], { name: 'audio' });
      await room.publish(media.getVideoTracks()[0], { name: 'camera' });
    }
    return { peer: room.peerId, session: room.session };
  }, { room, peer, peers, tracks, token, publish, subscribeAll });
}

/** Per attached (peer/track): framesDecoded (video) and packetsReceived, from each receiver's own stats. */
export function receiving(page) {
  return page.evaluate(async () => {
    const room = window.t.room;
    const out = {};
    for (const s of room.subscriptions.values()) {
      const tr = room.pc.getTransceivers().find((x) => x.mid === s.mid);
      const stats = await tr.receiver.getStats();
      stats.forEach((r) => {
        if (r.type === 'inbound-rtp') out[`${s.peer}/${s.track}`] = { framesDecoded: r.framesDecoded ?? 0, packetsReceived: r.packetsReceived ?? 0 };
      });
    }
    return out;
  });
}

/** Every inbound RTP packet the page's peer connection got, attached or not. */
export function packetsIn(page) {
  return page.evaluate(async () => {
    let n = 0;
    (await window.t.room.pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp') n += r.packetsReceived ?? 0; });
    return n;
  });
}

/**
 * The selected candidate pair of the page's room (window.t.room.pc), from pages/media.js's selectedPair: only where
 * the server serves the test pages under /web/test (lib/netns.mjs topologies).
 */
export function selectedPair(page) {
  return page.evaluate(async () => (await import('/web/test/media.js')).selectedPair(window.t.room.pc));
}

export const events = (page, name) => page.evaluate((n) => window.t.events.filter((e) => !n || e.event === n), name);

/** Waits until every `peer` in `from` decodes video and the count is still rising a second later. */
export async function waitDecoding(page, from, { timeoutMs = 20_000, minFrames = 20, label = '' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let s;
  for (;;) {
    s = await receiving(page);
    if (from.every((p) => (s[`${p}/camera`]?.framesDecoded ?? 0) >= minFrames)) break;
    assert.ok(Date.now() < deadline, `${label} does not decode ${from.join(', ')} within ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await sleep(250);
  }
  await sleep(1000);
  const later = await receiving(page);
  for (const p of from) {
    if (later[`${p}/camera`].framesDecoded > s[`${p}/camera`].framesDecoded) continue;
    // What the server told the page about its receivers says why (paused by the allocator, a layer, ...).
    const states = (await events(page, 'receiver_state')).filter((e) => e.peer === p);
    assert.fail(`${label}: frames from ${p} stopped: ${JSON.stringify([s, later])}; receiver_state: ${JSON.stringify(states)}`);
  }
  return later;
}

/** Polls `fn` until it returns a truthy value; returns it and how long it took. */
export async function until(fn, { timeoutMs, intervalMs = 50, what = 'condition' }) {
  const started = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return { value: v, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}
