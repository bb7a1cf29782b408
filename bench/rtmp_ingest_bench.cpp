// What one RTMP publisher costs the server, split into the video passthrough (RTMP chunks -> FLV tags -> H264
// RFC 6184 payloads -> core events) and the audio transcode (AAC -> PCM -> 48 kHz -> Opus), on a real stream:
// 10 s that Debian's ffmpeg encodes once at start (1280x720 30 fps H264 baseline at 2.5 Mbit/s, a key frame
// every 2 s, AAC 44.1 kHz stereo 128 kbit/s), replayed through RtmpPublisher as RTMP messages, one receive()
// per message as a socket read would hand them in. Reported per second of media (us_per_media_s: CPU
// microseconds one publisher costs per second it streams), and the processing latency of one access unit
// (receive() to its packets out as core events), p50/p99. Sans-IO: no sockets, so this is the server's own
// work only.
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "transport/rtmp/amf0.h"
#include "transport/rtmp/chunk_writer.h"
#include "transport/rtmp/handshake.h"
#include "transport/rtmp/rtmp_message.h"
#include "transport/rtmp/rtmp_publisher.h"

namespace {

using atrium::rtmp::Amf0Writer;
using atrium::rtmp::ChunkWriter;
using atrium::rtmp::MessageType;
using atrium::rtmp::RtmpPublisher;
using Bytes = std::vector<uint8_t>;

struct Tag {
  uint8_t type;  // 8 audio, 9 video, 18 data
  uint32_t ts;
  Bytes data;
};

// 10 s from ffmpeg, as FLV tags; empty (and the benchmarks skip) when ffmpeg is missing.
const std::vector<Tag>& stream() {
  static const std::vector<Tag> tags = [] {
    std::vector<Tag> out;
    const std::string path = "/tmp/atrium-rtmp-bench.flv";
    const std::string cmd =
        "ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i "
        "sine=frequency=1000:sample_rate=44100 -t 10 -c:v libx264 -pix_fmt yuv420p -profile:v baseline -bf 0 "
        "-g 60 -b:v 2500k -maxrate 2500k -bufsize 2500k -tune zerolatency -preset veryfast -c:a aac -ar "
        "44100 "
        "-ac 2 -b:a 128k -f flv " +
        path;
    if (std::system(cmd.c_str()) != 0) return out;
    std::ifstream f(path, std::ios::binary);
    Bytes b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    size_t pos = 9 + 4;  // FLV header, PreviousTagSize0
    while (pos + 11 <= b.size()) {
      const uint32_t size = (uint32_t{b[pos + 1]} << 16) | (uint32_t{b[pos + 2]} << 8) | b[pos + 3];
      const uint32_t ts = (uint32_t{b[pos + 7]} << 24) | (uint32_t{b[pos + 4]} << 16) |
                          (uint32_t{b[pos + 5]} << 8) | b[pos + 6];
      if (pos + 11 + size > b.size()) break;
      out.push_back({b[pos], ts,
                     Bytes(b.begin() + static_cast<std::ptrdiff_t>(pos + 11),
                           b.begin() + static_cast<std::ptrdiff_t>(pos + 11 + size))});
      pos += 11 + size + 4;
    }
    return out;
  }();
  return tags;
}

enum Kinds { kVideo = 1, kAudio = 2 };

// The client's side: handshake, connect/createStream/publish, then the tags as messages.
struct Wire {
  Bytes setup;
  std::vector<Bytes> messages;
  std::vector<bool> is_video;
  size_t video_frames = 0, audio_frames = 0;
};

Wire wire(int kinds) {
  Wire w;
  w.setup.assign(1 + 2 * atrium::rtmp::kHandshakeSize, 0x42);  // C0 C1 C2
  w.setup[0] = 3;
  ChunkWriter cw;
  auto command = [&](const std::vector<std::string>& names, double txn, uint32_t stream_id, bool obj) {
    Bytes body;
    Amf0Writer a(body);
    a.string(names[0]);
    a.number(txn);
    if (obj) {
      a.object_begin();
      a.key("app");
      a.string("live");
      a.key("tcUrl");
      a.string("rtmp://127.0.0.1/live");
      a.object_end();
    } else {
      a.null();
    }
    for (size_t i = 1; i < names.size(); ++i)
      a.string(names[i]);
    cw.write(w.setup, 3, static_cast<uint8_t>(MessageType::kCommandAmf0), stream_id, 0, body);
  };
  const Bytes chunk_size = {0, 0, 0x10, 0};  // 4096, as ffmpeg sets it
  cw.write(w.setup, 2, static_cast<uint8_t>(MessageType::kSetChunkSize), 0, 0, chunk_size);
  cw.set_chunk_size(4096);
  command({"connect"}, 1, 0, true);
  command({"createStream"}, 2, 0, false);
  command({"publish", "bench/peer", "live"}, 3, 1, false);
  for (const auto& t : stream()) {
    const bool video = t.type == 9;
    if (t.type == 18 || (video && !(kinds & kVideo)) || (t.type == 8 && !(kinds & kAudio))) continue;
    // Sequence headers always go (the config), frames only for the kinds measured.
    Bytes m;
    cw.write(m, video ? 6 : 4, t.type, 1, t.ts, t.data);
    w.messages.push_back(std::move(m));
    w.is_video.push_back(video);
    (video ? w.video_frames : w.audio_frames) += 1;
  }
  return w;
}

void drain(RtmpPublisher& p, size_t& events) {
  while (p.pop_event())
    ++events;
  auto out = p.pending_output();
  p.consume_output(out.size());
}

double cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

void run(benchmark::State& state, int kinds) {
  if (stream().empty()) {
    state.SkipWithError("ffmpeg could not make the test stream");
    return;
  }
  const Wire w = wire(kinds);
  size_t events = 0;
  double cpu = 0;
  std::vector<double> video_us, audio_us;
  for (auto _ : state) {
    const double c0 = cpu_us();
    RtmpPublisher p(1, 0);
    p.receive(0, w.setup);
    if (!p.take_publish_request()) {
      state.SkipWithError("the publish was not requested");
      return;
    }
    atrium::core::JoinParams join;
    join.room = "bench";
    join.peer = "peer";
    p.admit(join);
    p.on_endpoint_event(0, atrium::core::eev::Joined{"bench", "peer"});
    drain(p, events);
    const bool first = video_us.empty() && audio_us.empty();
    for (size_t i = 0; i < w.messages.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      p.receive(static_cast<int64_t>(i) * 1000, w.messages[i]);
      drain(p, events);
      if (first)
        (w.is_video[i] ? video_us : audio_us)
            .push_back(
                std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    cpu += cpu_us() - c0;
    benchmark::DoNotOptimize(events);
  }
  // The stream is 10 s: CPU per second of media is what one publisher costs.
  state.counters["cpu_us_per_media_s"] = cpu / (10.0 * static_cast<double>(state.iterations()));
  size_t bytes = 0;
  for (const auto& m : w.messages)
    bytes += m.size();
  state.counters["kbit_per_s"] = static_cast<double>(bytes) * 8 / 10 / 1000;
  state.counters["core_events"] = static_cast<double>(events) / static_cast<double>(state.iterations());
  state.counters["cpu_pct_of_core"] = cpu / (10.0 * static_cast<double>(state.iterations())) / 1e4;
  if (!video_us.empty()) {
    state.counters["video_frame_p50_us"] = percentile(video_us, 0.5);
    state.counters["video_frame_p99_us"] = percentile(video_us, 0.99);
  }
  if (!audio_us.empty()) {
    state.counters["audio_frame_p50_us"] = percentile(audio_us, 0.5);
    state.counters["audio_frame_p99_us"] = percentile(audio_us, 0.99);
  }
}

void BM_RtmpVideoPassthrough(benchmark::State& state) {
  run(state, kVideo);
}
void BM_RtmpAudioTranscode(benchmark::State& state) {
  run(state, kAudio);
}
void BM_RtmpVideoAndAudio(benchmark::State& state) {
  run(state, kVideo | kAudio);
}

BENCHMARK(BM_RtmpVideoPassthrough)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RtmpAudioTranscode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RtmpVideoAndAudio)->Unit(benchmark::kMillisecond);

}  // namespace
