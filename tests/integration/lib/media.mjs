// Page helpers for media tests: a WHIP publisher (optionally simulcast) and a WHEP viewer, each in its own page of
// pages/media.html, with the getStats() numbers tests assert on. `origin` is where that page's chromium reaches
// atrium's HTTP API with an http://localhost origin (Topology.origin(role) of lib/netns.mjs); the page is served by
// atrium at /web/test/media.html (lib/netns.mjs puts tests/integration/pages there).

async function openMediaPage(browser, origin) {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log(`[page] ${m.text()}`); });
  await page.goto(`${origin}/web/test/media.html`);
  await page.waitForFunction(() => window.media !== undefined);
  return page;
}

/**
 * Publishes the fake camera (and microphone) with WHIP.
 * simulcast: three encodings l/m/h (1/4, 1/2, full of 1280x720; 150k/500k/1.5M) with rids; else one 640x480 stream.
 * @returns {Promise<{page, resource: string,
 *   stats: () => Promise<{at: number, video: {[rid: string]: {rid?, bytesSent, packetsSent, framesEncoded,
 *     frameWidth, frameHeight, framesPerSecond, targetBitrate, qualityLimitationReason, nackCount,
 *     retransmittedPacketsSent, ...}}, audio, transport}>,
 *   stop: () => Promise<void>}>} stats().video is keyed by rid ('' without simulcast)
 */
export async function startPublisher({ browser, origin, room = 'netns', peer = 'pub', codec = 'VP8', simulcast = false,
  audio = true }) {
  const page = await openMediaPage(browser, origin);
  const resource = await page.evaluate((o) => window.media.publish(o), { room, peer, codec, simulcast, audio });
  return {
    page,
    resource,
    stats: () => page.evaluate(() => window.media.outbound()),
    stop: () => page.evaluate(() => window.media.stop()),
  };
}

/**
 * Watches a room with WHEP (the first publisher, or `source`).
 * @returns {Promise<{page, resource: string,
 *   stats: () => Promise<{at: number, video?: {framesDecoded, framesReceived, framesDropped, frameWidth, frameHeight,
 *     framesPerSecond, freezeCount, totalFreezesDuration, nackCount, pliCount, packetsReceived, packetsLost,
 *     bytesReceived, ...}, audio?, transport?: {currentRoundTripTime, availableIncomingBitrate}}>,
 *   waitForFrames: (n: number, timeoutMs?: number) => Promise<object>,
 *   stop: () => Promise<void>}>}
 */
export async function startViewer({ browser, origin, room = 'netns', source }) {
  const page = await openMediaPage(browser, origin);
  const resource = await page.evaluate((o) => window.media.watch(o), { room, source });
  const stats = () => page.evaluate(() => window.media.inbound());
  return {
    page,
    resource,
    stats,
    // Resolves with the stats once `n` video frames are decoded; throws with the last stats after timeoutMs.
    async waitForFrames(n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await stats();
        if ((s.video?.framesDecoded ?? 0) >= n) return s;
        if (Date.now() > deadline) throw new Error(`viewer decoded < ${n} frames in ${timeoutMs} ms: ${JSON.stringify(s)}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    stop: () => page.evaluate(() => window.media.stop()),
  };
}
