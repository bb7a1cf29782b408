#include "media/media_packet.h"

#include <algorithm>
#include <cctype>

namespace atrium::media {

std::string_view to_string(Codec c) {
  switch (c) {
    case Codec::kOpus:
      return "opus";
    case Codec::kVP8:
      return "VP8";
    case Codec::kVP9:
      return "VP9";
    case Codec::kH264:
      return "H264";
    case Codec::kAV1:
      return "AV1";
    case Codec::kPcmu:
      return "PCMU";
    case Codec::kPcma:
      return "PCMA";
    case Codec::kUnknown:
      break;
  }
  return "unknown";
}

Codec codec_from_name(std::string_view name) {
  auto eq = [&](std::string_view want) {
    return name.size() == want.size() &&
           std::equal(name.begin(), name.end(), want.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  };
  if (eq("opus")) return Codec::kOpus;
  if (eq("VP8")) return Codec::kVP8;
  if (eq("VP9")) return Codec::kVP9;
  if (eq("H264")) return Codec::kH264;
  if (eq("AV1") || eq("AV1X")) return Codec::kAV1;
  if (eq("PCMU")) return Codec::kPcmu;
  if (eq("PCMA")) return Codec::kPcma;
  return Codec::kUnknown;
}

}  // namespace atrium::media
