// One H264 access unit (AVCC NAL units, as FLV carries them) -> RTP payloads (RFC 6184, packetization mode
// 1).
//
// - Before every IDR access unit: a STAP-A with the stored SPS and PPS (every one of them), so a viewer can
//   start at any IDR. `media::h264_is_keyframe` sees this first packet as a key frame (it carries an SPS).
//   If the STAP-A would not fit the payload budget, the parameter sets go as their own packets instead.
// - Each NAL unit: a single NAL unit packet when it fits `max_payload`, FU-A fragments otherwise.
// - Dropped: access unit delimiters (9), filler data (12), and NAL types 0 and 24-31 (not allowed in AVCC).
//   SPS/PPS inside the access unit replace the stored ones and are sent in the STAP-A, not on their own.
// - Marker on the last packet of the access unit; keyframe on the first packet of an IDR access unit.
// - RTP timestamp = FLV dts (ms) x 90, modulo 2^32: since 2^32 x 90 = 0 mod 2^32, the RTP clock wraps
//   exactly where the 32-bit RTMP millisecond clock does.
//
// The payloads live in a buffer the packetizer owns and reuses: once it has grown to the largest access unit,
// packetizing allocates nothing. packets() is valid until the next packetize().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "transport/rtmp/rtmp_limits.h"

namespace atrium::rtmp {

struct RtpPayloadView {
  std::span<const uint8_t> payload;  // the RTP payload: NAL unit, STAP-A or FU-A (no RTP header)
  bool marker = false;               // last packet of the access unit
  bool keyframe = false;             // first packet of an IDR access unit
};

class H264Packetizer {
 public:
  // The smallest budget: an FU-A needs 2 header bytes plus at least one byte of the unit.
  static constexpr size_t kMinMaxPayload = 64;

  explicit H264Packetizer(size_t max_payload = kDefaultMaxRtpPayload);

  // From the AVCDecoderConfigurationRecord (FLV's AVC sequence header). Replaces what was stored; entries
  // that are not NAL type 7 (SPS) / 8 (PPS) are left out.
  void set_parameter_sets(const std::vector<std::vector<uint8_t>>& sps,
                          const std::vector<std::vector<uint8_t>>& pps);
  bool has_parameter_sets() const { return !sps_.empty() && !pps_.empty(); }
  const std::vector<std::vector<uint8_t>>& sps() const { return sps_; }
  const std::vector<std::vector<uint8_t>>& pps() const { return pps_; }

  // Packetizes one access unit. Returns how many packets it made: 0 when nothing is left to send (only
  // dropped NAL types) or the AVCC data is truncated (a length past the end: the whole unit is dropped).
  size_t packetize(std::span<const uint8_t> avcc, uint8_t nal_length_size, uint32_t dts_ms);

  std::span<const RtpPayloadView> packets() const { return views_; }
  uint32_t rtp_timestamp() const { return rtp_timestamp_; }
  bool keyframe() const { return keyframe_; }  // the last access unit had an IDR slice

  static constexpr uint32_t rtp_timestamp_of(uint32_t dts_ms) { return dts_ms * 90u; }

  uint64_t nals_dropped() const { return nals_dropped_; }        // AUD, filler, invalid types
  uint64_t units_truncated() const { return units_truncated_; }  // access units dropped whole
  size_t max_payload() const { return max_payload_; }

 private:
  struct Slot {
    size_t offset;
    size_t size;
  };

  void begin_packet();
  void end_packet();
  void emit_nal(std::span<const uint8_t> nal);
  void emit_parameter_sets();

  size_t max_payload_;
  std::vector<std::vector<uint8_t>> sps_, pps_;
  std::vector<uint8_t> buf_;
  std::vector<Slot> slots_;
  std::vector<RtpPayloadView> views_;
  size_t packet_start_ = 0;
  uint32_t rtp_timestamp_ = 0;
  bool keyframe_ = false;
  uint64_t nals_dropped_ = 0;
  uint64_t units_truncated_ = 0;
};

}  // namespace atrium::rtmp
