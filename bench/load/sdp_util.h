// The SDP the load tool writes (a WHIP publisher offer, a WHEP viewer offer, an answer to a server's offer)
// and what it needs from the server's SDP (ICE credentials, fingerprint, setup, the first UDP candidate, the
// first passive TCP one).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/ip/udp.hpp>

namespace atrium::load {

struct LocalDescription {
  std::string ufrag;
  std::string pwd;
  std::string fingerprint_sha256;  // "AB:CD:..."
  std::string ip;
  uint16_t port = 0;
};

inline constexpr uint32_t kAudioSsrc = 0x0A0D1001;
inline constexpr uint32_t kVideoSsrc = 0x0B1D2001;
inline constexpr uint8_t kOpusPt = 111;
inline constexpr uint8_t kVp8Pt = 96;

struct RemoteDescription {
  std::string ufrag;
  std::string pwd;
  std::string fingerprint_algorithm = "sha-256";
  std::string fingerprint;
  std::string setup;                             // actpass, active, passive
  boost::asio::ip::udp::endpoint candidate;      // the first IPv4 UDP candidate
  boost::asio::ip::udp::endpoint tcp_candidate;  // the first IPv4 `tcptype passive` one (port 0: none)
  uint8_t audio_pt = kOpusPt;                    // what the server negotiated for us to send
  uint8_t video_pt = kVp8Pt;
  bool has_audio = false;
  bool has_video = false;
};

// A sendonly audio (opus) + video (VP8) offer, a=setup:active (we are the DTLS client), our candidate.
std::string publish_offer(const LocalDescription& local, bool audio);
// A recvonly audio + video offer (WHEP).
std::string subscribe_offer(const LocalDescription& local);
// Answers a server's offer (Janus subscriber): every audio/video section recvonly with its first opus/VP8
// payload type, others rejected; a=setup:active. Throws std::runtime_error with a sentence on bad SDP.
std::string answer_offer(const std::string& offer, const LocalDescription& local);
// Throws std::runtime_error with a sentence when something needed is missing.
RemoteDescription parse_remote(const std::string& sdp);

}  // namespace atrium::load
