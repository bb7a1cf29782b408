#include "cluster/nats/wire_format.h"

#include <algorithm>
#include <cstring>

namespace atrium::cluster::nats {

namespace {

constexpr uint8_t kMediaMagic = 0xA7;
constexpr uint8_t kFeedbackMagic = 0xA8;
constexpr uint8_t kLevelsMagic = 0xA9;
constexpr size_t kFeedbackHeaderSize = 16;
constexpr size_t kMaxFieldLength = 1 << 20;

void put_be(uint8_t* p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
}

uint64_t get_be(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | p[i];
  return v;
}

}  // namespace

void encode_media(core::ChannelId channel, const media::MediaPacket& packet, std::vector<uint8_t>& out) {
  out.resize(kMediaHeaderSize + packet.payload.size());
  uint8_t* p = out.data();
  p[0] = kMediaMagic;
  const bool has_tl0 = packet.tl0_pic_idx >= 0;
  p[1] = static_cast<uint8_t>((packet.marker ? 1 : 0) | (packet.keyframe ? 2 : 0) | (has_tl0 ? 4 : 0) |
                              (packet.layer_sync ? 8 : 0));
  p[2] = static_cast<uint8_t>(packet.codec);
  p[3] = packet.spatial_layer;
  p[4] = packet.temporal_layer;
  p[5] = static_cast<uint8_t>(packet.audio_level);
  put_be(p + 6, packet.seq, 2);
  put_be(p + 8, packet.timestamp, 4);
  put_be(p + 12, channel, 8);
  put_be(p + 20, packet.picture_id >= 0 ? static_cast<uint16_t>(packet.picture_id & 0x7FFF) : 0xFFFF, 2);
  p[22] = has_tl0 ? static_cast<uint8_t>(packet.tl0_pic_idx) : 0;
  p[23] = 0;
  if (!packet.payload.empty())
    std::memcpy(p + kMediaHeaderSize, packet.payload.data(), packet.payload.size());
}

std::optional<MediaFrame> decode_media(std::span<const uint8_t> bytes) {
  if (bytes.size() < kMediaHeaderSize || bytes[0] != kMediaMagic) return std::nullopt;
  const uint8_t* p = bytes.data();
  if (p[1] & ~15u) return std::nullopt;
  if (p[2] > static_cast<uint8_t>(media::Codec::kAV1)) return std::nullopt;
  MediaFrame f;
  f.packet.marker = (p[1] & 1) != 0;
  f.packet.keyframe = (p[1] & 2) != 0;
  f.packet.codec = static_cast<media::Codec>(p[2]);
  f.packet.spatial_layer = p[3];
  f.packet.temporal_layer = p[4];
  f.packet.audio_level = static_cast<int8_t>(p[5]);
  f.packet.seq = static_cast<uint16_t>(get_be(p + 6, 2));
  f.packet.timestamp = static_cast<uint32_t>(get_be(p + 8, 4));
  f.channel = get_be(p + 12, 8);
  const auto pid = static_cast<uint16_t>(get_be(p + 20, 2));
  if (pid != 0xFFFF) {
    if (pid > 0x7FFF) return std::nullopt;
    f.packet.picture_id = pid;
  }
  if (p[1] & 4) f.packet.tl0_pic_idx = p[22];
  f.packet.layer_sync = (p[1] & 8) != 0;
  f.packet.payload = bytes.subspan(kMediaHeaderSize);
  return f;
}

void encode_feedback(const Feedback& fb, std::vector<uint8_t>& out) {
  const size_t owner_len = fb.owner.size() > 255 ? 255 : fb.owner.size();
  out.resize(kFeedbackHeaderSize + owner_len);
  uint8_t* p = out.data();
  p[0] = kFeedbackMagic;
  p[1] = static_cast<uint8_t>(fb.type);
  put_be(p + 2, fb.channel, 8);
  put_be(p + 10, fb.bitrate_bps, 4);
  p[14] = fb.spatial_layer;
  p[15] = static_cast<uint8_t>(owner_len);
  if (owner_len) std::memcpy(p + kFeedbackHeaderSize, fb.owner.data(), owner_len);
}

std::optional<Feedback> decode_feedback(std::span<const uint8_t> bytes) {
  if (bytes.size() < kFeedbackHeaderSize || bytes[0] != kFeedbackMagic) return std::nullopt;
  const uint8_t* p = bytes.data();
  if (p[1] < 1 || p[1] > 3) return std::nullopt;
  const size_t owner_len = p[15];
  if (bytes.size() != kFeedbackHeaderSize + owner_len) return std::nullopt;
  Feedback fb;
  fb.type = static_cast<FeedbackType>(p[1]);
  fb.channel = get_be(p + 2, 8);
  fb.bitrate_bps = static_cast<uint32_t>(get_be(p + 10, 4));
  fb.spatial_layer = p[14];
  fb.owner.assign(reinterpret_cast<const char*>(p + kFeedbackHeaderSize), owner_len);
  return fb;
}

std::string encode_fields(std::initializer_list<std::string_view> fields) {
  std::string out;
  for (auto f : fields) {
    out += std::to_string(f.size());
    out += ':';
    out += f;
    out += ',';
  }
  return out;
}

std::optional<std::vector<std::string>> decode_fields(std::span<const uint8_t> bytes) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < bytes.size()) {
    size_t len = 0;
    size_t digits = 0;
    while (i < bytes.size() && bytes[i] >= '0' && bytes[i] <= '9') {
      len = len * 10 + (bytes[i] - '0');
      ++i;
      if (++digits > 7 || len > kMaxFieldLength) return std::nullopt;
    }
    if (digits == 0 || i >= bytes.size() || bytes[i] != ':') return std::nullopt;
    ++i;
    if (bytes.size() - i < len + 1 || bytes[i + len] != ',') return std::nullopt;
    out.emplace_back(reinterpret_cast<const char*>(bytes.data() + i), len);
    i += len + 1;
  }
  return out;
}

void encode_levels(const LevelSummary& summary, std::vector<uint8_t>& out) {
  out.clear();
  out.push_back(kLevelsMagic);
  const size_t owner = std::min<size_t>(summary.owner.size(), 255);
  out.push_back(static_cast<uint8_t>(owner));
  out.insert(out.end(), summary.owner.begin(), summary.owner.begin() + static_cast<std::ptrdiff_t>(owner));
  for (const auto& p : summary.peers) {
    if (p.peer.empty() || p.peer.size() > 255 || p.bins.empty()) continue;
    const size_t n = std::min(p.bins.size(), kMaxLevelBins);
    out.push_back(static_cast<uint8_t>(p.peer.size()));
    out.insert(out.end(), p.peer.begin(), p.peer.end());
    out.push_back(static_cast<uint8_t>(n));
    for (size_t i = p.bins.size() - n; i < p.bins.size(); ++i) {  // the newest, if there were too many
      out.push_back(p.bins[i].activity);
      out.push_back(p.bins[i].level_dbov);
    }
  }
}

std::optional<LevelSummary> decode_levels(std::span<const uint8_t> bytes) {
  if (bytes.size() < 2 || bytes[0] != kLevelsMagic) return std::nullopt;
  size_t at = 1;
  auto take_string = [&](std::string& out) {
    if (at >= bytes.size()) return false;
    const size_t len = bytes[at++];
    if (bytes.size() - at < len) return false;
    out.assign(reinterpret_cast<const char*>(bytes.data() + at), len);
    at += len;
    return true;
  };
  LevelSummary s;
  if (!take_string(s.owner) || s.owner.empty()) return std::nullopt;
  while (at < bytes.size()) {
    PeerLevels p;
    if (!take_string(p.peer) || p.peer.empty() || at >= bytes.size()) return std::nullopt;
    const size_t n = bytes[at++];
    if (n == 0 || n > kMaxLevelBins || bytes.size() - at < 2 * n) return std::nullopt;
    for (size_t i = 0; i < n; ++i, at += 2) {
      if (bytes[at + 1] > 127) return std::nullopt;
      p.bins.push_back({bytes[at], bytes[at + 1]});
    }
    s.peers.push_back(std::move(p));
  }
  return s;
}

}  // namespace atrium::cluster::nats
