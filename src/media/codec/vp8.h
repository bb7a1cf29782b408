// VP8 RTP payload descriptor (RFC 7741 section 4.2):
//
//   X R N S R PID(3) | [I L T K RSV(4)] | [M PictureID(7|15)] | [TL0PICIDX] | [TID(2) Y KEYIDX(5)] | payload
//
// and the first byte of the VP8 payload header (Size0(3) H VER(3) P) present when S=1 and PID=0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace atrium::media {

struct Vp8Descriptor {
  bool non_reference = false;       // N
  bool start_of_partition = false;  // S
  uint8_t partition_id = 0;         // PID, 0..7

  bool has_picture_id = false;    // I
  bool picture_id_15bit = false;  // M
  uint16_t picture_id = 0;
  bool has_tl0_pic_idx = false;  // L
  uint8_t tl0_pic_idx = 0;
  bool has_tid = false;  // T
  uint8_t tid = 0;
  bool layer_sync = false;   // Y (meaningful only with T)
  bool has_key_idx = false;  // K
  uint8_t key_idx = 0;

  size_t size = 0;  // descriptor bytes; the VP8 payload starts here

  // S=1 and PID=0: this packet carries the start of a frame (and the VP8 payload header).
  bool starts_frame() const { return start_of_partition && partition_id == 0; }
};

// Parses the descriptor. nullopt if truncated, or if L or T/K is set without the X byte (impossible by
// layout), or if nothing follows the descriptor.
std::optional<Vp8Descriptor> parse_vp8_descriptor(std::span<const uint8_t> payload);

// First packet of a key frame: descriptor starts a frame and the payload header's P bit is 0.
bool vp8_is_keyframe(std::span<const uint8_t> payload);

// Rewrites PictureID and/or TL0PICIDX in place (simulcast switching). A 7-bit PictureID keeps its width and
// takes the low 7 bits. False, with nothing written, when the descriptor does not parse or lacks a requested
// field.
bool vp8_rewrite_descriptor(std::span<uint8_t> payload, std::optional<uint16_t> picture_id,
                            std::optional<uint8_t> tl0_pic_idx);
// The same with MediaPacket's conventions: a negative value leaves that field alone. This is what a transport
// calls on its copy of the payload when the outgoing packet has picture_id >= 0 or tl0_pic_idx >= 0.
bool vp8_rewrite_descriptor(std::span<uint8_t> payload, int32_t picture_id, int16_t tl0_pic_idx);

}  // namespace atrium::media
