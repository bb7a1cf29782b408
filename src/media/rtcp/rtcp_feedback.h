// RFC 4585 / RFC 5104 feedback messages: generic NACK, PLI, FIR, and REMB (draft-alvestrand-rmcat-remb).
// Views over a parsed RtcpHeader; writers return bytes written or 0 (buffer too small / argument out of
// range).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "media/rtcp/rtcp_packet.h"

namespace atrium::media {

// Sender SSRC, media source SSRC and the FCI of an RTPFB/PSFB packet (body of at least 8 bytes).
struct FeedbackCommon {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  std::span<const uint8_t> fci;
};
std::optional<FeedbackCommon> parse_feedback_common(const RtcpHeader& h);

class NackView {
 public:
  static std::optional<NackView> parse(const RtcpHeader& h);  // RTPFB fmt 1, FCI a non-empty multiple of 4
  uint32_t sender_ssrc() const { return sender_; }
  uint32_t media_ssrc() const { return media_; }
  size_t item_count() const { return fci_.size() / 4; }
  uint16_t pid(size_t i) const;
  uint16_t blp(size_t i) const;

  // Calls f(uint16_t seq) for every lost sequence number, in item order (PID then BLP bits low to high).
  template <typename F>
  void for_each_lost(F&& f) const {
    for (size_t i = 0; i < item_count(); ++i) {
      const uint16_t p = pid(i);
      const uint16_t mask = blp(i);
      f(p);
      for (unsigned bit = 0; bit < 16; ++bit) {
        if (mask & (1u << bit)) f(static_cast<uint16_t>(p + bit + 1));
      }
    }
  }

 private:
  uint32_t sender_ = 0;
  uint32_t media_ = 0;
  std::span<const uint8_t> fci_;
};

// Packs the lost sequence numbers into PID/BLP items. Sorted input (in wrap-around order) gives the fewest
// items; any order is still encoded correctly. Duplicates are harmless. 0 if `lost` is empty.
size_t write_nack(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc,
                  std::span<const uint16_t> lost);
// Number of items write_nack would use (so a caller can size or split).
size_t nack_item_count(std::span<const uint16_t> lost);

struct PliView {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  static std::optional<PliView> parse(const RtcpHeader& h);  // PSFB fmt 1
};
size_t write_pli(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc);  // 12

struct FirEntry {
  uint32_t ssrc = 0;
  uint8_t seq = 0;  // command sequence number: the sender increments it per new request
  bool operator==(const FirEntry&) const = default;
};

class FirView {
 public:
  static std::optional<FirView> parse(const RtcpHeader& h);  // PSFB fmt 4, FCI a non-empty multiple of 8
  uint32_t sender_ssrc() const { return sender_; }
  size_t entry_count() const { return fci_.size() / 8; }
  FirEntry entry(size_t i) const;

 private:
  uint32_t sender_ = 0;
  std::span<const uint8_t> fci_;
};
size_t write_fir(std::span<uint8_t> out, uint32_t sender_ssrc, std::span<const FirEntry> entries);

class RembView {
 public:
  // PSFB fmt 15 with the "REMB" identifier; every listed SSRC must fit, and the bitrate must fit 64 bits.
  static std::optional<RembView> parse(const RtcpHeader& h);
  uint32_t sender_ssrc() const { return sender_; }
  uint64_t bitrate_bps() const { return bitrate_; }
  size_t ssrc_count() const { return ssrcs_.size() / 4; }
  uint32_t ssrc(size_t i) const;

 private:
  uint32_t sender_ = 0;
  uint64_t bitrate_ = 0;
  std::span<const uint8_t> ssrcs_;
};
// The bitrate is stored as an 18-bit mantissa and 6-bit exponent, so large values lose low bits (rounded
// down).
size_t write_remb(std::span<uint8_t> out, uint32_t sender_ssrc, uint64_t bitrate_bps,
                  std::span<const uint32_t> ssrcs);

}  // namespace atrium::media
