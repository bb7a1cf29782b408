// VP9 RTP payload descriptor (RFC 9628 section 4.2):
//
//   I P L F B E V Z | [M PictureID(7|15)] | [TID(3) U SID(3) D] [TL0PICIDX when F=0]
//   | [P_DIFF(7) N]* (F=1 and P=1, up to 3) | [scalability structure when V] | payload
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace atrium::media {

struct Vp9Descriptor {
  bool has_picture_id = false;             // I
  bool inter_picture_predicted = false;    // P
  bool has_layer_indices = false;          // L
  bool flexible_mode = false;              // F
  bool begin_of_frame = false;             // B
  bool end_of_frame = false;               // E
  bool has_scalability_structure = false;  // V
  bool not_ref_for_upper_spatial = false;  // Z

  bool picture_id_15bit = false;
  uint16_t picture_id = 0;

  uint8_t temporal_id = 0;              // TID
  bool switching_up = false;            // U
  uint8_t spatial_id = 0;               // SID
  bool inter_layer_dependency = false;  // D
  bool has_tl0_pic_idx = false;         // L and not flexible mode
  uint8_t tl0_pic_idx = 0;

  uint8_t num_ref_pics = 0;  // flexible mode, P=1: 1..3
  std::array<uint8_t, 3> p_diff{};

  // Scalability structure (V=1).
  uint8_t num_spatial_layers = 0;  // N_S + 1
  bool has_resolutions = false;    // Y
  std::array<uint16_t, 8> width{};
  std::array<uint16_t, 8> height{};
  bool has_gof = false;           // G
  uint8_t num_frames_in_gof = 0;  // N_G

  size_t size = 0;  // descriptor bytes; the VP9 data starts here
};

// nullopt if truncated, more than 3 P_DIFFs, or nothing follows the descriptor.
std::optional<Vp9Descriptor> parse_vp9_descriptor(std::span<const uint8_t> payload);

// First packet of a key frame: B=1, P=0, and spatial layer 0 when layer indices are present.
bool vp9_is_keyframe(std::span<const uint8_t> payload);

// Rewrites PictureID (keeping its width) and/or TL0PICIDX in place; false, with nothing written, when the
// descriptor does not parse or lacks a requested field.
bool vp9_rewrite_descriptor(std::span<uint8_t> payload, std::optional<uint16_t> picture_id,
                            std::optional<uint8_t> tl0_pic_idx);

}  // namespace atrium::media
