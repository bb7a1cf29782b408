// The server half of ICE in lite mode (RFC 8445 section 2.5): we never send checks, we answer the client's,
// and the client (controlling) nominates. What stays here is the state that matters to a session: which
// remote addresses proved they know our password, which one was nominated, and whether the client is still
// there (consent freshness, RFC 7675: a session whose checks stop for 30 s is over). STUN bytes are handled
// by the caller.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "media/media_packet.h"
#include "transport/webrtc/net/socket_address.h"

namespace atrium::webrtc {

struct IceCredentials {
  std::string ufrag;
  std::string pwd;
  static IceCredentials random();  // 8-character ufrag, 24-character pwd (RFC 8839 minimums are 4 and 22)
};

enum class IceState { kNew, kConnected, kFailed };

class IceLiteAgent {
 public:
  static constexpr media::Micros kConsentTimeout = 30'000'000;
  static constexpr size_t kMaxCandidatePairs = 16;  // addresses a client may try; more is a flood

  explicit IceLiteAgent(IceCredentials local) : local_(std::move(local)) {}

  const IceCredentials& local() const { return local_; }
  // ICE restart: new credentials; the nominated address stays usable until the client nominates again.
  void restart(IceCredentials local) { local_ = std::move(local); }

  // An authenticated binding request arrived from `from` (the caller verified MESSAGE-INTEGRITY with our
  // pwd). False when it is refused (too many addresses).
  // `priority`: its PRIORITY attribute, kept for the nominating check.
  bool on_valid_check(media::Micros now, const SocketAddress& from, bool use_candidate,
                      std::optional<uint32_t> priority = std::nullopt);

  // Has this address proved it knows our password? Only those may send DTLS/SRTP.
  bool validated(const SocketAddress& a) const;
  // Every address that passed a check, in the order they did.
  const std::vector<SocketAddress>& validated_addresses() const { return validated_; }
  // Where to send: the nominated address, or before nomination the latest validated one.
  std::optional<SocketAddress> send_address() const;
  bool nominated() const { return nominated_.has_value(); }
  const std::optional<SocketAddress>& nominated_address() const { return nominated_; }
  // The PRIORITY of the latest nominating check (none before one, or when it had none).
  std::optional<uint32_t> nominated_priority() const { return nominated_priority_; }
  IceState state(media::Micros now) const;

 private:
  IceCredentials local_;
  std::vector<SocketAddress> validated_;
  std::optional<SocketAddress> nominated_;
  std::optional<uint32_t> nominated_priority_;
  std::optional<SocketAddress> latest_;
  media::Micros last_check_ = 0;
  bool any_check_ = false;
};

}  // namespace atrium::webrtc
