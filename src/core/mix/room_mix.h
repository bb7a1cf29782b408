// RoomMix: one room's audio mixed for its listeners (docs/mixer.md, "In the room"), sans-IO. A thin layer
// over media::mixer::AudioMixer that speaks the core's names: inputs are audio channels, listeners are
// (endpoint, local track) pairs, and each mixed frame leaves as a cev::LocalTrackMedia delivery.
//
// ChannelRouter owns one per room while the room has a listener: it adds every audio channel of the room
// (published here or relayed from another node) as an input, pushes their packets, adds and removes the
// listeners, and calls tick() from its own tick.
//
// Mix-minus: every peer gets one input id of its own, reserved while the peer has an input or a listener
// here. The peer's first audio channel is mixed under that id, and the peer's listeners leave that id out,
// so a peer never hears itself (even when its audio starts after it began listening). A second audio
// channel of the same peer (e.g. a screen share's audio) gets a fresh id and is heard by the peer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/cluster/cluster_bus.h"
#include "core/errors.h"
#include "core/ids.h"
#include "core/util/ring_queue.h"
#include "media/media_packet.h"
#include "media/mixer/audio_mixer.h"

namespace atrium::core {

class RoomMix {
 public:
  using InputId = media::mixer::MixInputId;

  explicit RoomMix(media::mixer::MixerConfig config = {});

  // An audio channel of the room, published by `peer`. The input id to push() its packets under, or
  // nothing (the mixer is full: AudioMixer::kMaxInputs). Adding a channel twice gives the same id.
  std::optional<InputId> add_input(ChannelId channel, const std::string& peer);
  void remove_input(ChannelId channel);
  bool has_input(ChannelId channel) const { return inputs_.count(channel) > 0; }
  // One packet of an input; only Opus is mixed, anything else is ignored. `pkt.arrival` is its arrival
  // (the jitter statistic only). The payload is copied.
  void push(InputId input, const media::MediaPacket& pkt);

  // A listener: local track `id` of endpoint `ep`, of `peer` (whose own audio is left out), getting the mix
  // as `codec` (kOpus, kPcmu or kPcma). An error when the mixer cannot take it (AudioMixer::kMaxListeners,
  // no encoder, another codec).
  std::optional<Error> add_listener(EndpointId ep, LocalTrackId id, const std::string& peer,
                                    media::Codec codec = media::Codec::kOpus);
  void remove_listener(EndpointId ep, LocalTrackId id);
  void remove_endpoint(EndpointId ep);  // every listener of `ep`
  bool has_listener(EndpointId ep, LocalTrackId id) const;

  // Mixes the frames due by `now` (the mixer keeps its own 20 ms timeline; call it as often as you like)
  // and queues each as cev::LocalTrackMedia for its listener: in its codec, with the listener's seq and
  // timestamp (48 kHz for Opus, 8 kHz for G.711), keyframe set (audio). The payload is a view into the mixer,
  // valid until the next tick().
  void tick(media::Micros now, RingQueue<ClusterDelivery>& out);

  size_t listener_count() const { return listeners_.size(); }
  size_t input_count() const { return inputs_.size(); }
  // The channels mixed, in no particular order.
  std::vector<ChannelId> channels() const;
  const media::mixer::AudioMixer& mixer() const { return mixer_; }

 private:
  struct PeerSlot {
    InputId own = 0;        // the input id of the peer's own audio, left out of its listeners' mix
    bool own_used = false;  // a channel is mixed under `own`
    size_t listeners = 0;
  };
  struct Input {
    InputId id = 0;
    std::string peer;
  };
  struct Listener {
    EndpointId ep = 0;
    LocalTrackId id = 0;
    std::string peer;
  };

  PeerSlot& slot(const std::string& peer);
  void release_slot(const std::string& peer);  // when nothing uses it any more
  InputId next_id();

  media::mixer::AudioMixer mixer_;
  std::unordered_map<std::string, PeerSlot> peers_;
  std::unordered_map<ChannelId, Input> inputs_;
  std::unordered_map<media::mixer::MixListenerId, Listener> listeners_;
  InputId next_input_ = 1;
  media::mixer::MixListenerId next_listener_ = 1;
};

}  // namespace atrium::core
