#include "media/rtp/rtp_packet.h"

#include <cstring>

#include "media/rtp/bytes.h"

namespace atrium::media {

std::optional<RtpExtensionIterator::Element> RtpExtensionIterator::next() {
  if (form_ == RtpExtensionForm::kOneByte) {
    while (pos_ < block_.size()) {
      const uint8_t b = block_[pos_];
      const uint8_t id = b >> 4;
      if (id == 0) {  // padding byte
        ++pos_;
        continue;
      }
      if (id == 15) {  // reserved: stop processing the block
        pos_ = block_.size();
        return std::nullopt;
      }
      const size_t len = static_cast<size_t>(b & 0x0F) + 1;
      if (len > block_.size() - pos_ - 1) {
        malformed_ = true;
        pos_ = block_.size();
        return std::nullopt;
      }
      Element e{id, block_.subspan(pos_ + 1, len)};
      pos_ += 1 + len;
      return e;
    }
    return std::nullopt;
  }
  if (form_ == RtpExtensionForm::kTwoByte) {
    while (pos_ < block_.size()) {
      const uint8_t id = block_[pos_];
      if (id == 0) {
        ++pos_;
        continue;
      }
      if (block_.size() - pos_ < 2) {
        malformed_ = true;
        pos_ = block_.size();
        return std::nullopt;
      }
      const size_t len = block_[pos_ + 1];
      if (len > block_.size() - pos_ - 2) {
        malformed_ = true;
        pos_ = block_.size();
        return std::nullopt;
      }
      Element e{id, block_.subspan(pos_ + 2, len)};
      pos_ += 2 + len;
      return e;
    }
  }
  return std::nullopt;
}

std::optional<RtpPacket> RtpPacket::parse(std::span<const uint8_t> packet) {
  if (packet.size() < kRtpFixedHeaderSize) return std::nullopt;
  if ((packet[0] >> 6) != 2) return std::nullopt;
  RtpPacket p;
  p.data_ = packet;
  size_t pos = kRtpFixedHeaderSize + 4 * static_cast<size_t>(packet[0] & 0x0F);
  if (pos > packet.size()) return std::nullopt;
  if ((packet[0] & 0x10) != 0) {
    if (packet.size() - pos < 4) return std::nullopt;
    p.ext_profile_ = bytes::read16(packet, pos);
    const size_t len = 4 * static_cast<size_t>(bytes::read16(packet, pos + 2));
    pos += 4;
    if (packet.size() - pos < len) return std::nullopt;
    p.ext_block_ = packet.subspan(pos, len);
    pos += len;
  }
  p.header_size_ = pos;
  if ((packet[0] & 0x20) != 0) {
    const size_t pad = packet.back();
    if (pad == 0 || pad > packet.size() - pos) return std::nullopt;
    p.padding_size_ = pad;
  }
  p.payload_size_ = packet.size() - pos - p.padding_size_;
  return p;
}

uint16_t RtpPacket::sequence_number() const {
  return bytes::read16(data_, 2);
}
uint32_t RtpPacket::timestamp() const {
  return bytes::read32(data_, 4);
}
uint32_t RtpPacket::ssrc() const {
  return bytes::read32(data_, 8);
}
uint32_t RtpPacket::csrc(size_t i) const {
  return i < csrc_count() ? bytes::read32(data_, kRtpFixedHeaderSize + 4 * i) : 0;
}

RtpExtensionForm RtpPacket::extension_form() const {
  if (!has_extension()) return RtpExtensionForm::kNone;
  if (ext_profile_ == kOneByteExtensionProfile) return RtpExtensionForm::kOneByte;
  if ((ext_profile_ & kTwoByteExtensionProfileMask) == kTwoByteExtensionProfile)
    return RtpExtensionForm::kTwoByte;
  return RtpExtensionForm::kOther;
}

std::optional<RtpExtensionIterator::Element> RtpPacket::find(uint8_t id) const {
  if (id == 0) return std::nullopt;
  RtpExtensionIterator it = extensions();
  while (auto e = it.next()) {
    if (e->id == id) return e;
  }
  return std::nullopt;
}

std::span<const uint8_t> RtpPacket::find_extension(uint8_t id) const {
  auto e = find(id);
  return e ? e->data : std::span<const uint8_t>{};
}

bool RtpPacket::has_extension_id(uint8_t id) const {
  return find(id).has_value();
}

size_t write_rtp_header(std::span<uint8_t> out, const RtpHeaderFields& f,
                        std::span<const RtpExtension> extensions) {
  if (f.payload_type > 127 || f.csrcs.size() > 15) return 0;
  bool one_byte = true;
  size_t ext_bytes = 0;
  for (const auto& e : extensions) {
    if (e.id == 0 || e.data.size() > 255) return 0;
    if (e.id > 14 || e.data.empty() || e.data.size() > 16) one_byte = false;
  }
  for (const auto& e : extensions)
    ext_bytes += (one_byte ? 1 : 2) + e.data.size();
  const size_t ext_words = (ext_bytes + 3) / 4;
  if (ext_words > 0xFFFF) return 0;
  const size_t size = kRtpFixedHeaderSize + 4 * f.csrcs.size() + (extensions.empty() ? 0 : 4 + 4 * ext_words);
  if (out.size() < size) return 0;

  out[0] = static_cast<uint8_t>(0x80 | (extensions.empty() ? 0 : 0x10) | f.csrcs.size());
  out[1] = static_cast<uint8_t>((f.marker ? 0x80 : 0) | f.payload_type);
  bytes::write16(out, 2, f.sequence_number);
  bytes::write32(out, 4, f.timestamp);
  bytes::write32(out, 8, f.ssrc);
  size_t pos = kRtpFixedHeaderSize;
  for (uint32_t c : f.csrcs) {
    bytes::write32(out, pos, c);
    pos += 4;
  }
  if (!extensions.empty()) {
    bytes::write16(out, pos, one_byte ? kOneByteExtensionProfile : kTwoByteExtensionProfile);
    bytes::write16(out, pos + 2, static_cast<uint16_t>(ext_words));
    pos += 4;
    const size_t end = pos + 4 * ext_words;
    for (const auto& e : extensions) {
      if (one_byte) {
        out[pos++] = static_cast<uint8_t>((e.id << 4) | (e.data.size() - 1));
      } else {
        out[pos++] = e.id;
        out[pos++] = static_cast<uint8_t>(e.data.size());
      }
      if (!e.data.empty()) std::memcpy(&out[pos], e.data.data(), e.data.size());
      pos += e.data.size();
    }
    while (pos < end)
      out[pos++] = 0;
  }
  return pos;
}

namespace {
bool writable_rtp(std::span<uint8_t> p) {
  return p.size() >= kRtpFixedHeaderSize && (p[0] >> 6) == 2;
}
}  // namespace

bool rtp_set_sequence_number(std::span<uint8_t> packet, uint16_t seq) {
  if (!writable_rtp(packet)) return false;
  bytes::write16(packet, 2, seq);
  return true;
}

bool rtp_set_timestamp(std::span<uint8_t> packet, uint32_t ts) {
  if (!writable_rtp(packet)) return false;
  bytes::write32(packet, 4, ts);
  return true;
}

bool rtp_set_ssrc(std::span<uint8_t> packet, uint32_t ssrc) {
  if (!writable_rtp(packet)) return false;
  bytes::write32(packet, 8, ssrc);
  return true;
}

bool rtp_set_payload_type(std::span<uint8_t> packet, uint8_t pt) {
  if (!writable_rtp(packet) || pt > 127) return false;
  packet[1] = static_cast<uint8_t>((packet[1] & 0x80) | pt);
  return true;
}

bool rtp_set_marker(std::span<uint8_t> packet, bool marker) {
  if (!writable_rtp(packet)) return false;
  packet[1] = static_cast<uint8_t>((packet[1] & 0x7F) | (marker ? 0x80 : 0));
  return true;
}

std::span<uint8_t> rtp_find_extension_mut(std::span<uint8_t> packet, uint8_t id) {
  auto p = RtpPacket::parse(packet);
  if (!p) return {};
  auto value = p->find_extension(id);
  if (value.empty()) return {};
  const auto offset = static_cast<size_t>(value.data() - packet.data());
  return packet.subspan(offset, value.size());
}

}  // namespace atrium::media
