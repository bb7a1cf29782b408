// Bytes as what a phone sends during a call: the first byte picks the path. SIP datagrams into the user
// agent (which answers each INVITE it accepts, so dialogs, timers and retransmissions are exercised), an
// SDP offer through read_audio_offer/choose_audio/write_audio_answer, or RTP into a call's media session
// (G.711 transcoding, Opus levels, RFC 4733 digits). Nothing may crash, and the user agent's state stays
// bounded.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/events/endpoint_event.h"
#include "transport/sip/sip_media_session.h"
#include "transport/sip/sip_sdp.h"
#include "transport/sip/sip_user_agent.h"

using namespace atrium;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0] % 3;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode == 0) {
    sip::SipUserAgentConfig config;
    config.host = "127.0.0.1";
    config.max_calls = 4;
    if (data[0] & 0x80) config.digest_password = "secret";  // the challenge path too
    sip::SipUserAgent ua(config, 1);
    media::Micros now = 0;
    // Split at "\0\0" so one input can be several datagrams (INVITE, then ACK/BYE/CANCEL ...).
    size_t pos = 0;
    while (pos <= in.size()) {
      size_t end = in.find(std::string_view("\0\0", 2), pos);
      if (end == std::string_view::npos) end = in.size();
      ua.receive(now, {"127.0.0.1", 5070}, in.substr(pos, end - pos));
      while (auto e = ua.pop_event()) {
        if (auto* call = std::get_if<sip::IncomingCall>(&*e)) ua.accept(now, call->call, "v=0\r\n");
        if (auto* re = std::get_if<sip::CallReoffer>(&*e)) ua.accept_reoffer(now, re->call, "v=0\r\n");
      }
      while (ua.pop_datagram()) {
      }
      now += 700000;
      ua.tick(now);
      pos = end + 2;
    }
    if (ua.calls() > 4) std::abort();
    // A call ends by itself when it is not ACKed or not refreshed, or its BYE goes unanswered; every ended
    // one is reaped after its linger.
    for (int i = 0; i < 400; ++i) {
      now += 1'000'000;
      ua.tick(now);
      while (ua.pop_datagram()) {
      }
    }
    if (ua.dialogs() != ua.calls()) std::abort();  // every ended dialog is reaped after its linger
    return 0;
  }
  if (mode == 1) {
    auto offer = sip::read_audio_offer(in);
    if (!offer.offer) {
      if (offer.error.empty()) std::abort();
      return 0;
    }
    std::string why;
    auto n = sip::choose_audio(*offer.offer, {media::Codec::kOpus, media::Codec::kPcmu, media::Codec::kPcma},
                               &why);
    if (!n && why.empty()) std::abort();
    if (n) (void)sip::write_audio_answer(*n, "127.0.0.1", 5004, 1, 1);
    return 0;
  }
  sip::NegotiatedAudio audio;
  audio.codec = (data[0] / 3) % 2 ? media::Codec::kOpus : media::Codec::kPcmu;
  audio.pt = audio.codec == media::Codec::kOpus ? 111 : 0;
  audio.dtmf_pt = 101;
  sip::SipMediaSession s(audio, {}, 1);
  s.start();
  s.on_endpoint_event(0, core::eev::Joined{"r", "p"});
  while (s.pop_event()) {
  }
  // Packets as a 2-byte big-endian length, then the bytes.
  size_t pos = 0;
  media::Micros now = 0;
  while (pos + 2 <= in.size()) {
    const size_t len =
        (static_cast<size_t>(static_cast<uint8_t>(in[pos])) << 8) | static_cast<uint8_t>(in[pos + 1]);
    pos += 2;
    const auto part = in.substr(pos, std::min(len, in.size() - pos));
    pos += part.size();
    s.receive_rtp(now, {reinterpret_cast<const uint8_t*>(part.data()), part.size()});
    while (s.pop_event()) {
    }
    while (s.pop_digit()) {
    }
    now += 20000;
  }
  return 0;
}
