// Does this RTP payload start a frame that decodes on its own? One function per codec's payload format.
#pragma once

#include <cstdint>
#include <span>

#include "media/media_packet.h"

namespace atrium::media {

// True for audio always; for video, true only for the first packet of an intra frame. Never reads out of bounds:
// a truncated or malformed payload is "not a key frame".
bool is_keyframe(Codec codec, std::span<const uint8_t> payload);

}  // namespace atrium::media
