// Drives endpoints through the real core (EndpointHub + LocalBus) with a fake clock, and keeps what each
// endpoint's transport would have been told, so tests read like a client's view of the session.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "core/cluster/local_bus.h"
#include "core/hub/endpoint_hub.h"

namespace atrium::core::testing {

// VP8 payloads (RFC 7741 descriptor with S=1, then the VP8 frame tag): a key frame carries the start code.
inline const std::vector<uint8_t> kVp8Key = {0x10, 0x10, 0x00, 0x00, 0x9d, 0x01,
                                             0x2a, 0x80, 0x02, 0xe0, 0x01};
inline const std::vector<uint8_t> kVp8Delta = {0x10, 0x11, 0x00, 0x00, 0x00, 0x00,
                                               0x00, 0x00, 0x00, 0x00, 0x00};
inline const std::vector<uint8_t> kOpus = {0xfc, 0xff, 0xfe};

class CoreHarness {
 public:
  CoreHarness() : hub(bus) {}

  EndpointId add() { return hub.create_endpoint(); }

  EndpointId join(const std::string& room, const std::string& peer,
                  SubscribeMode peers = SubscribeMode::kAuto, SubscribeMode tracks = SubscribeMode::kAuto) {
    EndpointId ep = add();
    send(ep, tev::Join{{room, peer, "{}", peers, tracks}});
    return ep;
  }

  void send(EndpointId ep, TransportEvent&& ev) {
    hub.on_transport(now, ep, std::move(ev));
    collect();
  }

  void publish(EndpointId ep, RemoteTrackId id, const std::string& name,
               media::MediaKind kind = media::MediaKind::kVideo) {
    send(ep, tev::Publish{id, {name, kind, "{}"}});
  }

  // One packet from the publisher's client on remote track `id`.
  void media(EndpointId ep, RemoteTrackId id, uint16_t seq, uint32_t ts, bool key,
             media::Codec codec = media::Codec::kVP8, int8_t audio_level = -1) {
    media::MediaPacket p;
    p.audio_level = audio_level;
    p.codec = codec;
    p.seq = seq;
    p.timestamp = ts;
    p.marker = true;
    p.arrival = now;
    const auto& bytes = codec == media::Codec::kOpus ? kOpus : (key ? kVp8Key : kVp8Delta);
    p.payload = std::span<const uint8_t>(bytes);
    send(ep, tev::RemoteMedia{id, p});
  }

  void advance(media::Micros us) {
    now += us;
    hub.on_tick(now);
    collect();
  }

  void collect() {
    while (auto o = hub.pop_output())
      events[o->to].push_back(std::move(o->event));
  }

  // Every event of type T an endpoint received, then forgotten.
  template <typename T>
  std::vector<T> take(EndpointId ep) {
    std::vector<T> out;
    auto& evs = events[ep];
    for (auto it = evs.begin(); it != evs.end();) {
      if (auto* e = std::get_if<T>(&*it)) {
        out.push_back(std::move(*e));
        it = evs.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

  // The codes of every error an endpoint received, then forgotten.
  std::vector<std::string> errors(EndpointId ep) {
    std::vector<std::string> out;
    for (auto& e : take<eev::ErrorEvent>(ep))
      out.emplace_back(to_string(e.error.code));
    return out;
  }

  void clear() { events.clear(); }

  media::Micros now = 1'000'000;
  LocalBus bus;
  EndpointHub hub;
  std::map<EndpointId, std::vector<EndpointEvent>> events;
};

}  // namespace atrium::core::testing
