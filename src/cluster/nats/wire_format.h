// What nodes send each other, as bytes. Media and feedback are small fixed binary headers (they are per
// packet or per second, so no text parsing); directory values are a few length-prefixed fields
// (human-readable enough in `nats kv get`, and meta is opaque client text that may hold any byte). Every
// decoder treats its input as untrusted: it checks sizes and values and says nullopt rather than guess.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/audio/active_speaker_detector.h"
#include "core/ids.h"
#include "media/media_packet.h"

namespace atrium::cluster::nats {

// Media frame: magic, flags (marker, keyframe, has TL0PICIDX, layer sync), codec, spatial, temporal, audio
// level, seq, timestamp, channel id, picture id (0xFFFF: none), TL0PICIDX, a zero byte (big endian), then the
// payload.
constexpr size_t kMediaHeaderSize = 24;

struct MediaFrame {
  core::ChannelId channel = 0;
  media::MediaPacket packet;  // payload views the decoded bytes; arrival is left to the receiver
};

// Fills `out` (its capacity is reused, so a warm buffer does not allocate).
void encode_media(core::ChannelId channel, const media::MediaPacket& packet, std::vector<uint8_t>& out);
std::optional<MediaFrame> decode_media(std::span<const uint8_t> bytes);

// Feedback travels from subscriber nodes to the publisher's node on the channel's feedback subject.
enum class FeedbackType : uint8_t {
  kInterest = 1,  // "node <owner> has subscribers and wants up to <bitrate>": sent on change and refreshed
  kGone = 2,      // "node <owner> has no subscribers any more"
  kKeyFrame = 3,  // a subscriber lost its picture, or switches to `spatial_layer`
};

struct Feedback {
  FeedbackType type = FeedbackType::kInterest;
  core::ChannelId channel = 0;
  uint32_t bitrate_bps = 0;
  std::string owner;
  uint8_t spatial_layer = 0xFF;  // kKeyFrame: the layer that needs one (0xFF: every layer)
};

void encode_feedback(const Feedback& fb, std::vector<uint8_t>& out);
std::optional<Feedback> decode_feedback(std::span<const uint8_t> bytes);

// Audio levels: a few times a second per room, the closed 100 ms bins (ActiveSpeakerDetector) of the peers
// that publish audio on node `owner`, on the room's level subject. Magic, owner (length byte + bytes), then
// per peer: length byte + name, a bin count (1..kMaxLevelBins), two bytes per bin (activity, dBov level).
constexpr size_t kMaxLevelBins = 20;
struct PeerLevels {
  std::string peer;
  std::vector<core::ActiveSpeakerDetector::BinSummary> bins;
};
struct LevelSummary {
  std::string owner;
  std::vector<PeerLevels> peers;
};
void encode_levels(const LevelSummary& summary, std::vector<uint8_t>& out);
std::optional<LevelSummary> decode_levels(std::span<const uint8_t> bytes);

// Directory values: "<len>:<bytes>," per field. A peer is [owner, meta]; a track is [owner, kind, meta].
std::string encode_fields(std::initializer_list<std::string_view> fields);
std::optional<std::vector<std::string>> decode_fields(std::span<const uint8_t> bytes);

}  // namespace atrium::cluster::nats
