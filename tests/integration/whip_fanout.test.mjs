// Fan-out: one publisher and 20 viewers, all @roamhq/wrtc peer connections in this node process, through atrium.
// Every viewer must decode the publisher's video. While all of them watch, the test measures what the server
// forwards (atrium_rtp_packets_sent_total) and the CPU it uses for it (/proc/<pid>/stat), prints the numbers
// ("fanout: ...") and writes them to $ATRIUM_BUILD_DIR/fanout-result.json.
//
// The client side (one VP8 encoder, 20 decoders) runs on the same machine, so the server's CPU share is what it
// got next to them; "packets per second per core" divides by the CPU the server actually used, which is the figure
// that does not depend on how busy the machine was.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { metric, processCpuTimes, scrapeMetrics, threadCpuSeconds } from './lib/measure.mjs';
import { startServer } from './lib/server.mjs';
import { inboundStats, publish, syntheticAudio, syntheticVideo, watch } from './lib/wrtc.mjs';

const VIEWERS = 20;
const ROOM = 'fanout';
const FIRST_FRAMES = 30; // every viewer decodes this many within FIRST_FRAMES_MS
const FIRST_FRAMES_MS = 20_000;
const MEASURE_MS = 10_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

async function waitFor(what, fn, { timeoutMs = 5_000, everyMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last.ok) return last;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms: ${JSON.stringify(last)}`);
    await sleep(everyMs);
  }
}

// A snapshot of everything the measurement compares: server counters, server CPU (process and threads), frames.
async function sample(server, viewers) {
  const metrics = await scrapeMetrics(server);
  return {
    at: performance.now(),
    cpu: processCpuTimes(server.proc.pid),
    threads: threadCpuSeconds(server.proc.pid),
    client: process.cpuUsage(),
    metrics,
    frames: viewers.map((v) => v.frames()),
  };
}

function resultDir() {
  const dir = process.env.ATRIUM_BUILD_DIR ?? os.tmpdir();
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

test(`one wrtc publisher, ${VIEWERS} wrtc viewers: every viewer decodes the video; forwarding rate and CPU`,
  { timeout: 90_000 }, async () => {
    const server = await startServer({ name: 'whip-fanout', args: ['--bind', '127.0.0.1', '--udp-port', '0'], workers: 2 });
    const video = syntheticVideo({ width: 320, height: 240, fps: 30 });
    const audio = syntheticAudio();
    let publisher;
    const viewers = [];
    let failed = false;
    try {
      publisher = await publish(server.url, ROOM, { peer: 'publisher', tracks: [audio.track, video.track] });

      // All viewers at once, as a crowd arriving would.
      const started = Date.now();
      viewers.push(...(await Promise.all(
        Array.from({ length: VIEWERS }, (_, i) => watch(server.url, ROOM, { peer: `viewer-${i}` })),
      )));
      const negotiatedMs = Date.now() - started;
      assert.equal(new Set(viewers.map((v) => v.location)).size, VIEWERS, 'every viewer has its own session');
      assert.equal(await metric(server, 'atrium_webrtc_sessions'), VIEWERS + 1);

      // Every viewer decodes FIRST_FRAMES frames.
      await waitFor(`every viewer decodes ${FIRST_FRAMES} frames`, async () => {
        const frames = viewers.map((v) => v.frames());
        return { ok: frames.every((n) => n >= FIRST_FRAMES), frames, states: viewers.map((v) => v.pc.connectionState) };
      }, { timeoutMs: FIRST_FRAMES_MS, everyMs: 250 });
      const allDecodingMs = Date.now() - started;

      // Steady state: the server's forwarding and CPU over MEASURE_MS.
      const a = await sample(server, viewers);
      await sleep(MEASURE_MS);
      const b = await sample(server, viewers);

      const seconds = (b.at - a.at) / 1000;
      const delta = (name) => (b.metrics[name] ?? 0) - (a.metrics[name] ?? 0);
      const cpuSeconds = b.cpu.seconds - a.cpu.seconds;
      const cpuFraction = cpuSeconds / seconds; // of one core
      const ppsSent = delta('atrium_rtp_packets_sent_total') / seconds;
      const ppsReceived = delta('atrium_rtp_packets_received_total') / seconds;
      const threads = Object.entries(b.threads)
        .map(([tid, t]) => ({ tid: Number(tid), name: t.name, cpuPercent: round((100 * (t.seconds - (a.threads[tid]?.seconds ?? 0))) / seconds) }))
        .filter((t) => t.cpuPercent > 0)
        .sort((x, y) => y.cpuPercent - x.cpuPercent);
      const viewerFps = viewers.map((v, i) => (b.frames[i] - a.frames[i]) / seconds);
      const clientCpuSeconds = (b.client.user - a.client.user + b.client.system - a.client.system) / 1e6;
      const inbound = await Promise.all(viewers.map((v) => inboundStats(v.pc)));

      const result = {
        viewers: VIEWERS,
        workers: 2,
        cores: os.cpus().length,
        video: '320x240@30 synthetic, plus a 48 kHz tone',
        codecs: [...new Set(inbound.flatMap((s) => [s.video?.mimeType, s.audio?.mimeType]))],
        negotiatedMs,
        allDecodingMs,
        measuredSeconds: round(seconds, 2),
        rtpPacketsForwardedPerSecond: round(ppsSent),
        rtpPacketsReceivedPerSecond: round(ppsReceived),
        udpDatagramsSentPerSecond: round(delta('atrium_udp_datagrams_sent_total') / seconds),
        udpDatagramsReceivedPerSecond: round(delta('atrium_udp_datagrams_received_total') / seconds),
        mbitsSentPerSecond: round((8 * delta('atrium_udp_bytes_sent_total')) / seconds / 1e6, 2),
        serverCpuSeconds: round(cpuSeconds, 3),
        serverCpuPercent: round(100 * cpuFraction),
        serverCpuUserPercent: round((100 * (b.cpu.user - a.cpu.user)) / seconds),
        serverCpuSystemPercent: round((100 * (b.cpu.system - a.cpu.system)) / seconds),
        packetsPerSecondPerCore: cpuFraction > 0 ? Math.round(ppsSent / cpuFraction) : null,
        cpuMicrosecondsPerForwardedPacket: ppsSent > 0 ? round((1e6 * cpuFraction) / ppsSent, 2) : null,
        serverThreads: threads,
        clientCpuPercent: round((100 * clientCpuSeconds) / seconds),
        loadAverage: os.loadavg().map((x) => round(x, 2)),
        viewerFps: { min: round(Math.min(...viewerFps)), max: round(Math.max(...viewerFps)), mean: round(viewerFps.reduce((s, x) => s + x, 0) / VIEWERS) },
        viewerFrameSize: [...new Set(viewers.map((v) => `${v.width()}x${v.height()}`))],
        nacksRequested: delta('atrium_nack_requested_total'),
        nacksResent: delta('atrium_nack_resent_total'),
        plisReceived: delta('atrium_pli_received_total'),
        plisSent: delta('atrium_pli_sent_total'),
        srtpFailures: b.metrics.atrium_srtp_failures_total ?? 0,
        sendErrors: b.metrics.atrium_udp_send_errors_total ?? 0,
        unknownDropped: b.metrics.atrium_udp_unknown_dropped_total ?? 0,
      };
      const file = path.join(resultDir(), 'fanout-result.json');
      fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
      console.log(`fanout: ${VIEWERS} viewers (${result.codecs.join(', ')}) negotiated in ${negotiatedMs} ms, all decoding after ${allDecodingMs} ms`);
      console.log(`fanout: forwarded ${result.rtpPacketsForwardedPerSecond} RTP packets/s (received ${result.rtpPacketsReceivedPerSecond}/s from the publisher), ${result.mbitsSentPerSecond} Mbit/s out`);
      console.log(`fanout: server CPU ${result.serverCpuPercent}% of one core (user ${result.serverCpuUserPercent}%, system ${result.serverCpuSystemPercent}%) over ${result.measuredSeconds} s -> ${result.packetsPerSecondPerCore} packets/s per core (${result.cpuMicrosecondsPerForwardedPacket} us of CPU per forwarded packet, everything included)`);
      console.log(`fanout: server threads ${threads.slice(0, 4).map((t) => `${t.name} ${t.cpuPercent}%`).join(', ')}; client (this node process) ${result.clientCpuPercent}%; load ${result.loadAverage.join(' ')}`);
      console.log(`fanout: viewer fps min ${result.viewerFps.min} mean ${result.viewerFps.mean}; frame sizes ${result.viewerFrameSize.join(',')}; NACK ${result.nacksRequested}/${result.nacksResent} resent, PLI ${result.plisReceived} in/${result.plisSent} out`);
      console.log(`fanout: result written to ${file}`);

      // Every viewer kept decoding, and its audio arrived too.
      for (let i = 0; i < VIEWERS; i += 1) {
        assert.ok(b.frames[i] > a.frames[i], `viewer ${i} stopped decoding: ${a.frames[i]} -> ${b.frames[i]} frames`);
        assert.ok((inbound[i].audio?.packetsReceived ?? 0) > 0, `viewer ${i} received no audio: ${JSON.stringify(inbound[i])}`);
        assert.ok((inbound[i].video?.packetsReceived ?? 0) > 0, `viewer ${i} received no video: ${JSON.stringify(inbound[i])}`);
      }
      // The server sends each viewer what the publisher sends: about VIEWERS times what it receives.
      assert.ok(ppsSent > ppsReceived * VIEWERS * 0.8, `forwarded ${ppsSent}/s for ${ppsReceived}/s received`);
      assert.equal(result.srtpFailures, 0);

      // Everybody leaves with DELETE; the sessions are gone.
      const deletes = await Promise.all([...viewers, publisher].map((s) => fetch(s.sessionUrl, { method: 'DELETE' })));
      assert.deepEqual(deletes.map((r) => r.status), Array(VIEWERS + 1).fill(200));
      await waitFor('atrium_webrtc_sessions is 0', async () => {
        const sessions = await metric(server, 'atrium_webrtc_sessions');
        return { ok: sessions === 0, sessions };
      });
    } catch (error) {
      failed = true;
      console.error(`--- atrium log (${server.logFile}), last lines ---\n${server.tail(60)}\n---`);
      throw error;
    } finally {
      for (const v of viewers) {
        v.stop();
        v.pc.close();
      }
      publisher?.pc.close();
      video.stop();
      audio.stop();
      const exit = await server.stop();
      const message = `atrium exited with ${JSON.stringify(exit)} on SIGTERM`;
      if (failed) {
        if (exit.code !== 0) console.error(message); // the first error is the one to report
      } else {
        assert.equal(exit.code, 0, `${message}\n${server.tail()}`);
      }
    }
  });
