// Keeps a VP8 receiver's picture ids and TL0PICIDX continuous across source and layer switches (RFC 7741
// §4.2). Each simulcast layer, and each source, numbers its pictures in its own space; a decoder that sees
// the id jump backwards or repeat across a switch takes the new frames for old ones. At a switch (rebase) the
// next packet's ids are offset to continue right after the newest ids sent; within one source the offset
// stays constant, so a reordered packet keeps the id it had relative to its neighbours.
#pragma once

#include <cstdint>

#include "media/media_packet.h"
#include "media/rtp/seq.h"

namespace atrium::media {

class PictureIdRewriter {
 public:
  // The next packet given to rewrite() comes from a new source or layer.
  void rebase() { rebase_ = true; }

  // Sets out.picture_id and out.tl0_pic_idx from in's, offset; `out.seq` is the rewritten sequence number,
  // which tells the newest packet sent. Packets without the fields are left as they are.
  void rewrite(const MediaPacket& in, MediaPacket& out) {
    if (rebase_) {
      rebase_ = false;
      pid_offset_ =
          in.picture_id >= 0 && last_pid_ >= 0 ? static_cast<uint16_t>(last_pid_ + 1 - in.picture_id) : 0;
      tl0_offset_ =
          in.tl0_pic_idx >= 0 && last_tl0_ >= 0 ? static_cast<uint8_t>(last_tl0_ + 1 - in.tl0_pic_idx) : 0;
    }
    if (in.picture_id >= 0) out.picture_id = (in.picture_id + pid_offset_) & 0x7FFF;
    if (in.tl0_pic_idx >= 0) out.tl0_pic_idx = static_cast<int16_t>((in.tl0_pic_idx + tl0_offset_) & 0xFF);
    if (!have_out_ || seq_newer(out.seq, last_out_seq_)) {
      have_out_ = true;
      last_out_seq_ = out.seq;
      if (out.picture_id >= 0) last_pid_ = out.picture_id;
      if (out.tl0_pic_idx >= 0) last_tl0_ = out.tl0_pic_idx;
    }
  }

 private:
  bool rebase_ = true;
  uint16_t pid_offset_ = 0;
  uint8_t tl0_offset_ = 0;
  bool have_out_ = false;
  uint16_t last_out_seq_ = 0;
  int32_t last_pid_ = -1;  // the newest packet's ids, as sent
  int16_t last_tl0_ = -1;
};

}  // namespace atrium::media
