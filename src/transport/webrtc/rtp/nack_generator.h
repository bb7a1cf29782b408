// The receiving side of RFC 4585 generic NACK for one incoming stream (the publisher's leg): notices gaps in
// the sequence numbers, asks for each missing packet again at most `max_retries` times, spaced by about one
// round trip, and gives up on packets too old to be of use (the jitter buffer downstream has moved on).
// Sans-IO and allocation-free after the first packet: the caller passes `now`, polls what to ask for and
// writes the NACK itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/media_packet.h"
#include "media/rtp/seq.h"

namespace atrium::webrtc {

struct NackGeneratorConfig {
  size_t max_missing = 256;  // a larger gap is not repaired packet by packet
  int max_retries = 8;
  media::Micros min_retry_interval = 20'000;
  media::Micros reorder_wait = 5'000;  // a packet that is merely late usually arrives within this
  media::Micros max_age = 1'000'000;
};

class NackGenerator {
 public:
  explicit NackGenerator(const NackGeneratorConfig& cfg = {});

  // A packet of this stream arrived (an original, or a repair carrying the original number). Returns false
  // when the gap it opened was too large to repair: the caller should ask for a key frame instead.
  bool on_packet(uint16_t seq, media::Micros now);
  void set_rtt(media::Micros rtt) { rtt_ = rtt; }
  // True for a number at or below the highest seen that is not missing: this packet already arrived (or is
  // too old to matter).
  bool is_duplicate(uint16_t seq) const;

  // Writes the sequence numbers to ask for now into `out` (ascending) and returns how many.
  size_t poll(media::Micros now, std::span<uint16_t> out);

  size_t missing() const { return missing_.size(); }
  uint64_t recovered() const { return recovered_; }
  uint64_t given_up() const { return given_up_; }

 private:
  struct Missing {
    int64_t seq = 0;  // unwrapped
    media::Micros noticed = 0;
    media::Micros last_asked = 0;
    int retries = 0;
  };

  std::vector<Missing>::const_iterator find_missing(int64_t seq) const;  // end() when not missing

  NackGeneratorConfig cfg_;
  std::vector<Missing> missing_;  // ascending by seq, capacity max_missing
  media::SeqUnwrapper unwrap_;
  int64_t highest_ = 0;
  media::Micros rtt_ = 50'000;
  uint64_t recovered_ = 0;
  uint64_t given_up_ = 0;
};

}  // namespace atrium::webrtc
