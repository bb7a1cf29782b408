// SDP offer/answer for a telephone call (RFC 3264 over RFC 8866, RTP/AVP profile RFC 3551): one audio
// section, PCMU (payload type 0), PCMA (8) or Opus (RFC 7587, dynamic), plus telephone-event (RFC 4733) for
// DTMF. What the SIP call reads from an INVITE's body and writes into its 200 OK. Built on the generic SDP
// model in media/sdp; nothing here knows about ICE or DTLS (a SIP phone sends plain RTP to the c= address).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/media_packet.h"

namespace atrium::sip {

// Which way media flows, from the offerer's side as written (RFC 3264 §5.1, §8.4: hold is a sendonly or
// inactive offer, or the old c=0.0.0.0).
enum class Direction : uint8_t { kSendRecv, kSendOnly, kRecvOnly, kInactive };
std::string_view to_string(Direction d);

struct OfferedPayload {
  uint8_t pt = 0;
  std::string name;  // "PCMU", "opus", "telephone-event", ... (as written)
  uint32_t clock_rate = 0;
  uint8_t channels = 1;
};

// The parts of a remote description a call uses.
struct AudioOffer {
  std::string address;  // where to send RTP: the audio section's c=, else the session's
  uint16_t port = 0;    // 0: the stream is refused/disabled
  std::string proto;    // "RTP/AVP", "RTP/SAVP", ...
  Direction direction = Direction::kSendRecv;
  bool hold_address = false;             // c=0.0.0.0 (RFC 2543 hold)
  std::vector<OfferedPayload> payloads;  // in the m= line's order (the offerer's preference)
  uint32_t ptime_ms = 20;
};

// Reads the first audio section of `text`. An error sentence (for a 488 Not Acceptable Here) when the SDP
// does not parse, has no audio section, or the audio section has no address.
struct AudioOfferResult {
  std::optional<AudioOffer> offer;
  std::string error;
};
AudioOfferResult read_audio_offer(std::string_view text);

// What the server will send and receive: one voice codec and, if offered at its clock rate, DTMF events.
struct NegotiatedAudio {
  media::Codec codec = media::Codec::kUnknown;  // kOpus, kPcmu or kPcma
  uint8_t pt = 0;
  uint32_t clock_rate = 8000;  // of the voice codec's RTP timestamps (48000 for Opus)
  uint8_t channels = 1;        // as the rtpmap says (Opus is always written /2, RFC 7587)
  std::optional<uint8_t> dtmf_pt;
  uint32_t dtmf_rate = 8000;  // telephone-event's clock
  std::string remote_address;
  uint16_t remote_port = 0;
  Direction direction = Direction::kSendRecv;  // ours: the answer's (sendonly when the caller holds)
  uint32_t ptime_ms = 20;
};

// Picks the first codec of `preference` (kOpus / kPcmu / kPcma, in the server's order) that the offer has;
// nothing when none is offered, with `why` set.
std::optional<NegotiatedAudio> choose_audio(const AudioOffer& offer,
                                            const std::vector<media::Codec>& preference, std::string* why);

// The answer: v=0 ... one audio section on `local_address`:`local_port`, RTP/AVP, `a=ptime:20`, the direction
// attribute. `session_id`/`version` go into o= (the version rises with every new description of the dialog).
std::string write_audio_answer(const NegotiatedAudio& chosen, std::string_view local_address,
                               uint16_t local_port, uint64_t session_id, uint64_t version);

}  // namespace atrium::sip
