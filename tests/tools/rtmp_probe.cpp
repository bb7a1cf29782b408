// Test-only: accepts one RTMP connection on 127.0.0.1:PORT, runs an RtmpSession over it (accepting the
// publish) and prints its events, to check the session against a real client by hand (docs/rtmp.md).
//
//   g++ -std=c++20 -O2 -Isrc tests/tools/rtmp_probe.cpp build/release/src/transport/rtmp/libatrium_rtmp.a
//       build/release/src/media/libatrium_media.a -lcrypto -o build/release/rtmp_probe
//   build/release/rtmp_probe 19350 &
//   ffmpeg -re -f lavfi -i testsrc=size=640x360:rate=30 -f lavfi -i sine=frequency=1000:sample_rate=44100
//       -t 5 -c:v libx264 -profile:v baseline -bf 0 -g 60 -c:a aac -f flv
//       rtmp://127.0.0.1:19350/live/room1/peer1
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <variant>

#include "media/codec/h264.h"
#include "transport/rtmp/rtmp_session.h"

using namespace atrium;

namespace {
media::Micros now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 19350;
  const int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(ls, 1) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  const int s = accept(ls, nullptr, nullptr);
  rtmp::RtmpSession session(rtmp::RtmpSessionConfig{.seed = 1234}, now_us());
  uint8_t buf[65536];
  uint64_t aus = 0, keys = 0, packets = 0, audio = 0, core_keys = 0;
  bool done = false;
  while (!done) {
    const ssize_t n = read(s, buf, sizeof buf);
    if (n <= 0) {
      std::printf("socket closed by the client\n");
      break;
    }
    session.receive(std::span<const uint8_t>(buf, static_cast<size_t>(n)), now_us());
    while (auto e = session.poll_event()) {
      std::visit(
          [&](auto& ev) {
            using T = std::decay_t<decltype(ev)>;
            if constexpr (std::is_same_v<T, rtmp::PublishRequested>) {
              std::printf("PublishRequested app=%s key=%s tcUrl=%s -> accept\n", ev.app.c_str(),
                          ev.stream_key.c_str(), ev.tc_url.c_str());
              session.accept_publish();
            } else if constexpr (std::is_same_v<T, rtmp::MetadataReceived>) {
              std::printf("MetadataReceived %ux%u %.2f fps video=%s audio=%s encoder=%s\n", ev.width,
                          ev.height, ev.framerate, ev.video_codec.c_str(), ev.audio_codec.c_str(),
                          ev.encoder.c_str());
            } else if constexpr (std::is_same_v<T, rtmp::VideoConfigured>) {
              std::printf("VideoConfigured profile-level-id=%s\n", ev.profile_level_id.c_str());
            } else if constexpr (std::is_same_v<T, rtmp::VideoAccessUnit>) {
              const auto p = session.video_packets();
              ++aus;
              keys += ev.keyframe;
              packets += p.size();
              if (ev.keyframe && media::h264_is_keyframe(p[0].payload)) ++core_keys;
              if (aus <= 3 || ev.keyframe)
                std::printf("VideoAccessUnit #%llu ts=%u key=%d packets=%zu core_keyframe=%d\n",
                            static_cast<unsigned long long>(aus), ev.rtp_timestamp, ev.keyframe, p.size(),
                            media::h264_is_keyframe(p[0].payload));
            } else if constexpr (std::is_same_v<T, rtmp::AudioConfigured>) {
              std::printf("AudioConfigured asc=%zu bytes\n", ev.audio_specific_config.size());
            } else if constexpr (std::is_same_v<T, rtmp::AudioFrame>) {
              if (++audio <= 2) std::printf("AudioFrame ts=%u %zu bytes\n", ev.timestamp_ms, ev.aac.size());
            } else if constexpr (std::is_same_v<T, rtmp::UnsupportedMedia>) {
              std::printf("UnsupportedMedia %s\n", ev.sentence.c_str());
            } else if constexpr (std::is_same_v<T, rtmp::PublishEnded>) {
              std::printf("PublishEnded\n");
            } else if constexpr (std::is_same_v<T, rtmp::SessionFailed>) {
              std::printf("SessionFailed: %s\n", ev.sentence.c_str());
              done = true;
            }
          },
          *e);
    }
    for (auto out = session.pending_output(); !out.empty(); out = session.pending_output()) {
      const ssize_t w = write(s, out.data(), out.size());
      if (w <= 0) break;
      session.consume_output(static_cast<size_t>(w));
    }
    if (session.closing()) done = true;
  }
  const auto& c = session.counters();
  std::printf("totals: access_units=%llu keyframes=%llu (core sees %llu) rtp_packets=%llu aac_frames=%llu\n",
              static_cast<unsigned long long>(aus), static_cast<unsigned long long>(keys),
              static_cast<unsigned long long>(core_keys), static_cast<unsigned long long>(packets),
              static_cast<unsigned long long>(audio));
  for (const auto& info : rtmp::kRtmpSessionCounters)
    std::printf("  %s=%llu\n", std::string(info.name).c_str(),
                static_cast<unsigned long long>(c.*info.field));
  // Close gracefully: stop writing, then drain what the client still sends until it closes (at most 3 s).
  // Closing with unread input would send a RST, and the client could lose the onStatus before reading it.
  shutdown(s, SHUT_WR);
  timeval tv{3, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (read(s, buf, sizeof buf) > 0) {
  }
  close(s);
  close(ls);
  return 0;
}
