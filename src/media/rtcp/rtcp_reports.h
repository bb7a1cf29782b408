// Sender and receiver reports, SDES and BYE (RFC 3550 sections 6.4-6.6): views over a parsed RtcpHeader and
// writers into caller buffers. Writers return the bytes written, 0 when the buffer is too small or an
// argument is out of range; concatenating writer outputs gives a compound packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "media/rtcp/rtcp_packet.h"

namespace atrium::media {

inline constexpr size_t kReportBlockSize = 24;
inline constexpr size_t kMaxReportBlocks = 31;

struct ReportBlock {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;    // fixed point /256
  int32_t cumulative_lost = 0;  // 24-bit signed on the wire; clamped when written
  uint32_t extended_highest_seq = 0;
  uint32_t jitter = 0;
  uint32_t last_sr = 0;              // middle 32 bits of the NTP time of the last SR received
  uint32_t delay_since_last_sr = 0;  // 1/65536 s

  bool operator==(const ReportBlock&) const = default;
};

struct SenderInfo {
  uint64_t ntp_time = 0;  // 32.32 fixed point seconds since 1900
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;

  bool operator==(const SenderInfo&) const = default;
};

// The middle 32 bits of an NTP time, as used in LSR/DLSR.
constexpr uint32_t ntp_compact(uint64_t ntp) {
  return static_cast<uint32_t>(ntp >> 16);
}

class SenderReportView {
 public:
  static std::optional<SenderReportView> parse(const RtcpHeader& h);  // PT 200, room for RC blocks
  uint32_t sender_ssrc() const { return ssrc_; }
  const SenderInfo& sender_info() const { return info_; }
  size_t report_count() const { return blocks_.size() / kReportBlockSize; }
  ReportBlock report(size_t i) const;  // i < report_count()

 private:
  uint32_t ssrc_ = 0;
  SenderInfo info_;
  std::span<const uint8_t> blocks_;
};

class ReceiverReportView {
 public:
  static std::optional<ReceiverReportView> parse(const RtcpHeader& h);  // PT 201
  uint32_t sender_ssrc() const { return ssrc_; }
  size_t report_count() const { return blocks_.size() / kReportBlockSize; }
  ReportBlock report(size_t i) const;

 private:
  uint32_t ssrc_ = 0;
  std::span<const uint8_t> blocks_;
};

class ByeView {
 public:
  // PT 203; every SSRC must fit. A reason that overruns the packet is ignored (reason() empty).
  static std::optional<ByeView> parse(const RtcpHeader& h);
  size_t ssrc_count() const { return ssrcs_.size() / 4; }
  uint32_t ssrc(size_t i) const;
  std::string_view reason() const { return reason_; }

 private:
  std::span<const uint8_t> ssrcs_;
  std::string_view reason_;
};

ReportBlock read_report_block(std::span<const uint8_t> b);               // b.size() >= 24
void write_report_block(std::span<uint8_t> out, const ReportBlock& rb);  // out.size() >= 24

size_t write_sender_report(std::span<uint8_t> out, uint32_t ssrc, const SenderInfo& info,
                           std::span<const ReportBlock> reports = {});
size_t write_receiver_report(std::span<uint8_t> out, uint32_t ssrc,
                             std::span<const ReportBlock> reports = {});
// One SDES chunk with a CNAME item (1..255 bytes).
size_t write_sdes_cname(std::span<uint8_t> out, uint32_t ssrc, std::string_view cname);
size_t write_bye(std::span<uint8_t> out, std::span<const uint32_t> ssrcs, std::string_view reason = {});

}  // namespace atrium::media
