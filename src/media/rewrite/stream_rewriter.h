// Makes packets from a succession of sources look like one continuous RTP stream to the receiver: sequence
// numbers without gaps or jumps at a switch, timestamps that advance by the wall time that passed. Within one
// source the offsets are constant, so reordering and loss stay visible to the receiver exactly as they
// happened (NACK works).
//
// A forwarder that leaves out packets on purpose (frames of a temporal layer the receiver does not get) says
// so with drop(): every later packet moves down by one, so the receiver sees no gap to NACK, while a packet
// older than the drop (reordered) keeps its place.
#pragma once

#include <array>
#include <cstdint>

#include "media/media_packet.h"
#include "media/rtp/seq.h"

namespace atrium::media {

class StreamRewriter {
 public:
  // Drops remembered one by one; older ones are folded into a constant shift. A packet that arrives later
  // than the oldest folded drop cannot be placed and is dropped too.
  static constexpr size_t kMaxDrops = 128;

  // The next packet given to rewrite() starts a new source (it should be a key frame's first packet).
  void switch_source() { switching_ = true; }

  // Rewrites seq and timestamp in place. False: drop the packet (it belongs to the old source, precedes the
  // switch point of the new one, or was dropped on purpose).
  bool rewrite(Micros now, uint32_t clock_rate, uint16_t& seq, uint32_t& timestamp);

  // Packet `seq` of the current source is left out on purpose. No effect before the first rewrite() of a
  // source.
  void drop(uint16_t seq);

  bool started() const { return started_; }

 private:
  // How many dropped packets precede `unwrapped` (the shift down it gets); -1 if it cannot be told.
  int64_t shift_for(int64_t unwrapped) const;

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

  // Drops of the current source, ascending, in unwrapped input seqs: [drops_begin_, drops_end_).
  SeqUnwrapper in_seq_;
  std::array<int64_t, kMaxDrops> drops_{};
  size_t drops_begin_ = 0;
  size_t drops_end_ = 0;
  int64_t folded_ = 0;         // drops no longer listed; all of them precede...
  int64_t folded_floor_ = -1;  // ...this input seq (inclusive); older packets cannot be placed
  bool any_folded_ = false;
};

}  // namespace atrium::media
