// Makes packets from a succession of sources look like one continuous RTP stream to the receiver: sequence
// numbers without gaps or jumps at a switch, timestamps that advance by the wall time that passed. Within one
// source the offsets are constant, so reordering and loss stay visible to the receiver exactly as they
// happened (NACK works).
#pragma once

#include <cstdint>

#include "media/media_packet.h"

namespace atrium::media {

class StreamRewriter {
 public:
  // The next packet given to rewrite() starts a new source (it should be a key frame's first packet).
  void switch_source() { switching_ = true; }

  // Rewrites seq and timestamp in place. False: drop the packet (it belongs to the old source or precedes the
  // switch point of the new one).
  bool rewrite(Micros now, uint32_t clock_rate, uint16_t& seq, uint32_t& timestamp);

  bool started() const { return started_; }

 private:
  bool started_ = false;
  bool switching_ = true;
  uint16_t seq_offset_ = 0;
  uint32_t ts_offset_ = 0;
  uint16_t first_in_seq_ = 0;  // first packet of the current source; anything older is dropped...
  bool guarding_switch_ =
      false;  // ...until the source is far enough past it that "older" stops meaning anything
  uint16_t max_out_seq_ = 0;
  uint32_t max_out_ts_ = 0;
  Micros max_out_time_ = 0;
};

}  // namespace atrium::media
