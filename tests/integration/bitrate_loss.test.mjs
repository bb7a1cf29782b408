// A viewer behind a lossy link keeps playing: chromium publishes VP8 with WHIP from its own network namespace,
// another chromium watches with WHEP from a third one, and 5 % of what reaches the viewer is dropped at random
// (nftables, input hook of the viewer's namespace) for 20 s. The viewer NACKs, atrium answers from its packet cache,
// and the picture goes on: frames decoded every second, freezes under 2 % of the time (MAX_FREEZE_PERCENT).
// lib/netns.mjs has the topology; the numbers are printed for the ctest log (ctest -V, or Testing/Temporary).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { metric } from './lib/measure.mjs';
import { startPublisher, startViewer } from './lib/media.mjs';
import { createTopology, netnsUnsupported } from './lib/netns.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const LOSS_PERCENT = 5;
const LOSS_SECONDS = 20;
// Freeze bound, in % of the lossy time: the 2 %. At 5 % random loss a retransmission is itself lost now
// and then, and chromium (no RTT for a receive-only stream, so it assumes 100 ms) asks again only after that: a
// stall of ~220 ms, which its freeze metric counts. Answering each NACK once, that happened 0-2 times per 20 s (up
// to 2.25 %; 2 of 12 runs failed 2 %). Atrium now answers twice while the viewer's transport-cc feedback shows
// more than 2 % loss (atrium_nack_duplicated_total), so a repair is lost with p^2 = 0.25 %: 0-1 short freezes
// (<= 1.1 %) in our runs. With every retransmission dropped (no repair) the viewer was frozen 91 % of the time.
const MAX_FREEZE_PERCENT = 2;

const unsupported = netnsUnsupported();

test('5 % random loss towards a WHEP viewer: NACKs repair it and the video keeps playing', { skip: unsupported ?? false, timeout: 120_000 }, async (t) => {
  const topo = await createTopology({ clients: ['pub', 'sub1'] });
  t.after(() => topo.destroy());
  const server = await topo.startServer({ name: 'bitrate-loss' });
  let pubBrowser;
  let subBrowser;
  try {
    [pubBrowser, subBrowser] = await Promise.all([topo.launchBrowser('pub'), topo.launchBrowser('sub1')]);
    const publisher = await startPublisher({ browser: pubBrowser, origin: await topo.origin('pub'), room: 'loss', codec: 'VP8' });
    const viewer = await startViewer({ browser: subBrowser, origin: await topo.origin('sub1'), room: 'loss' });
    await viewer.waitForFrames(30, 20_000);

    const before = await viewer.stats();
    const metricsBefore = {
      requested: await metric(server, 'atrium_nack_requested_total'),
      resent: await metric(server, 'atrium_nack_resent_total'),
      duplicated: await metric(server, 'atrium_nack_duplicated_total'),
    };
    topo.addLoss('sub1', LOSS_PERCENT);
    const samples = [before];
    for (let i = 0; i < LOSS_SECONDS; i++) {
      await sleep(1000);
      samples.push(await viewer.stats());
    }
    const dropped = topo.lossDropped('sub1');
    topo.removeLoss('sub1');
    const after = samples.at(-1);
    const metricsAfter = {
      requested: await metric(server, 'atrium_nack_requested_total'),
      resent: await metric(server, 'atrium_nack_resent_total'),
      duplicated: await metric(server, 'atrium_nack_duplicated_total'),
    };

    const seconds = (after.at - before.at) / 1000;
    const frames = after.video.framesDecoded - before.video.framesDecoded;
    const nacks = (after.video.nackCount ?? 0) - (before.video.nackCount ?? 0);
    const lost = (after.video.packetsLost ?? 0) - (before.video.packetsLost ?? 0);
    const received = after.video.packetsReceived - before.video.packetsReceived;
    // Freeze time: chromium's own inbound-rtp totalFreezesDuration when it has it, else the time between two
    // one-second samples without a new frame (coarse: a stall shorter than a sample goes unseen).
    let freezeSeconds;
    let freezeSource;
    if (after.video.totalFreezesDuration !== undefined) {
      freezeSeconds = after.video.totalFreezesDuration - (before.video.totalFreezesDuration ?? 0);
      freezeSource = 'inbound-rtp totalFreezesDuration';
    } else {
      freezeSeconds = 0;
      for (let i = 1; i < samples.length; i++) {
        if (samples[i].video.framesDecoded === samples[i - 1].video.framesDecoded) freezeSeconds += (samples[i].at - samples[i - 1].at) / 1000;
      }
      freezeSource = 'seconds without a decoded frame';
    }
    const freezePercent = (100 * freezeSeconds) / seconds;
    const summary = {
      lossPercent: LOSS_PERCENT,
      seconds: Number(seconds.toFixed(1)),
      droppedByNft: dropped,
      framesDecoded: frames,
      fps: Number((frames / seconds).toFixed(1)),
      freezePercent: Number(freezePercent.toFixed(2)),
      freezeSource,
      freezeCount: (after.video.freezeCount ?? 0) - (before.video.freezeCount ?? 0),
      viewerNackCount: nacks,
      viewerPacketsReceived: received,
      viewerPacketsLost: lost,
      serverNackRequested: metricsAfter.requested - metricsBefore.requested,
      serverNackResent: metricsAfter.resent - metricsBefore.resent,
      serverNackDuplicated: metricsAfter.duplicated - metricsBefore.duplicated,
      frameWidth: after.video.frameWidth,
      publisherRetransmits: (await publisher.stats()).video['']?.retransmittedPacketsSent,
    };
    console.log(`bitrate_loss: ${JSON.stringify(summary)}`);

    assert.ok(dropped > 0, `the loss rule dropped nothing: ${JSON.stringify(summary)}`);
    for (let i = 1; i < samples.length; i++) {
      assert.ok(samples[i].video.framesDecoded > samples[i - 1].video.framesDecoded,
        `no frame decoded in second ${i} of the loss: ${samples.map((s) => s.video.framesDecoded).join(' ')}`);
    }
    assert.ok(freezePercent < MAX_FREEZE_PERCENT, `frozen ${freezePercent.toFixed(2)} % of ${seconds.toFixed(1)} s (${freezeSource})`);
    assert.ok(nacks > 0, `the viewer sent no NACK: ${JSON.stringify(summary)}`);
    assert.ok(summary.serverNackRequested > 0, `atrium_nack_requested_total did not rise: ${JSON.stringify(summary)}`);
    assert.ok(summary.serverNackResent > 0, `atrium_nack_resent_total did not rise: ${JSON.stringify(summary)}`);

    await viewer.stop();
    await publisher.stop();
  } catch (error) {
    console.error(`--- atrium log (${server.logFile}), last lines ---\n${server.tail()}\n---`);
    for (const [name, b] of [['publisher', pubBrowser], ['viewer', subBrowser]]) {
      if (b) console.error(`--- ${name} console ---\n${b.consoleLines.slice(-20).join('\n')}\n---`);
    }
    throw error;
  } finally {
    await topo.destroy();
  }
});
