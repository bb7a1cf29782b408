// The server's SIP user agent, sans-IO: datagrams in (with their source), datagrams out (with their
// destination), call events for the runtime, `now` passed in. A UAS for calls into rooms (RFC 3261):
//
//   INVITE  -> 100 Trying at once, IncomingCall for the runtime, which answers ring() (180), accept() (200
//              with the SDP answer, retransmitted T1, 2T1, ... up to T2 until the ACK; no ACK in 64*T1 ends
//              the call with a BYE, §13.3.1.4) or reject() (a final status, retransmitted until the ACK,
//              Timer G/H, §17.2.1). A retransmitted INVITE gets the last response again.
//   CANCEL  -> before the final response: 200 to the CANCEL, 487 to the INVITE, CallEnded. Otherwise 481.
//   BYE     -> 200, CallEnded; for a dialog we do not have: 481.
//   ACK     -> confirms the dialog; one that matches nothing is dropped and counted.
//   OPTIONS -> 200 with Allow/Accept/Supported, in or out of a dialog.
//   INVITE in a dialog (re-INVITE: hold, unhold, a new address) -> CallReoffer; the runtime answers with
//              accept_reoffer() or reject_reoffer().
//   UPDATE in a dialog without a body -> 200 (a session refresh, RFC 4028).
//   anything else -> 405 (REGISTER, SUBSCRIBE, MESSAGE, ...).
// Session timers (RFC 4028): when the INVITE asks for Session-Expires, the 200 grants it with the caller as
// refresher; without a refresh (re-INVITE or UPDATE) before it runs out the call ends with a BYE.
//
// After any ending, the dialog lingers 64*T1 only to answer retransmissions (of the BYE, the ACK), then is
// gone; calls() counts live ones only. Bounds: max_calls live calls (503 beyond, with Retry-After), and at
// most kMaxLingering ended ones (the oldest goes first).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "media/media_packet.h"
#include "transport/sip/sip_digest.h"
#include "transport/sip/sip_message.h"

namespace atrium::sip {

struct SipAddress {
  std::string ip;
  uint16_t port = 0;
  bool operator==(const SipAddress&) const = default;
};

struct SipDatagram {
  SipAddress to;
  std::string bytes;
};

using CallHandle = uint64_t;

struct IncomingCall {
  CallHandle call = 0;
  std::string room;         // the request URI's user part (docs/sip.md, "Dial plan")
  std::string caller_name;  // From's display name, else its user part
  std::string caller_uri;   // From's URI
  std::string offer;        // the INVITE's SDP (may be empty: an offerless INVITE is refused by the runtime)
  SipAddress source;
};
struct CallReoffer {
  CallHandle call = 0;
  std::string offer;
};
struct CallEnded {
  CallHandle call = 0;
  std::string reason;  // "the caller hung up", "cancelled", "no ACK", "session expired", "hung up", ...
};
using SipEvent = std::variant<IncomingCall, CallReoffer, CallEnded>;

struct SipUserAgentConfig {
  std::string host;  // ours, for Contact and Via (the address the listener is bound to)
  uint16_t port = 5060;
  size_t max_calls = 200;
  media::Micros t1 = 500000;          // RFC 3261's T1 (500 ms); T2 = 8 T1, the ending timers 64 T1
  uint32_t min_session_expires = 90;  // RFC 4028 Min-SE
  // When set, an INVITE must answer a digest challenge (401) with this password (any user name):
  // --sip-secret.
  std::string digest_password;
  std::string digest_realm = "atrium";
  std::string nonce_key;  // random per process
};

struct SipUserAgentCounters {
  uint64_t requests = 0;
  uint64_t responses_in = 0;  // responses to our BYEs
  uint64_t malformed = 0;     // datagrams that did not parse (answered 400 when the request was readable)
  uint64_t retransmissions_in = 0;
  uint64_t retransmissions_out = 0;
  uint64_t stray_acks = 0;      // an ACK for nothing
  uint64_t unknown_dialog = 0;  // BYE/CANCEL/re-INVITE for nothing: 481
  uint64_t refused_busy = 0;    // 503, max_calls
  uint64_t calls_started = 0;
  uint64_t calls_answered = 0;
  uint64_t calls_ended = 0;
  uint64_t ack_timeouts = 0;
  uint64_t session_expiries = 0;
  uint64_t auth_challenges = 0;  // 401s sent (a first INVITE without credentials, a stale nonce)
  uint64_t auth_failures = 0;    // credentials that were wrong or malformed
};

class SipUserAgent {
 public:
  static constexpr size_t kMaxLingering = 4096;
  static constexpr size_t kMaxQueued = 4096;  // datagrams or events not yet polled; beyond, the oldest go

  explicit SipUserAgent(SipUserAgentConfig config, uint64_t seed);

  void receive(media::Micros now, const SipAddress& from, std::string_view datagram);
  // Retransmissions and timeouts; call it every ~50 ms (or at next_deadline()).
  void tick(media::Micros now);

  std::optional<SipDatagram> pop_datagram();
  std::optional<SipEvent> pop_event();

  // The runtime's answers to IncomingCall. Each is ignored for a call that has ended meanwhile.
  void ring(CallHandle call);
  void accept(media::Micros now, CallHandle call, const std::string& answer_sdp);
  void reject(media::Micros now, CallHandle call, int status, std::string_view reason);
  // Ends a call from our side: a BYE once answered, a 480 before. No CallEnded follows (the runtime knows).
  void hangup(media::Micros now, CallHandle call);
  void accept_reoffer(media::Micros now, CallHandle call, const std::string& answer_sdp);
  void reject_reoffer(media::Micros now, CallHandle call, int status, std::string_view reason);

  size_t calls() const { return live_; }
  size_t dialogs() const { return calls_.size(); }  // live + lingering
  const SipUserAgentCounters& counters() const { return counters_; }
  const SipUserAgentConfig& config() const { return config_; }

 private:
  enum class State : uint8_t {
    kEarly,      // INVITE received, no final response yet
    kAnswered,   // 200 sent, retransmitting until the ACK
    kConfirmed,  // ACK received
    kRejected,   // a final non-2xx sent, retransmitting until the ACK
    kByeSent,    // our BYE, retransmitting until its response
    kEnded,      // lingering for retransmissions only
  };
  struct Call {
    CallHandle handle = 0;
    State state = State::kEarly;
    SipAddress peer;
    std::string call_id;
    std::string local_tag;
    std::string remote_from;  // their From field (with their tag): our BYE's To
    std::string local_to;     // their To field with our tag: our BYE's From
    std::string remote_target;
    std::string invite;  // the INVITE (or re-INVITE) being answered, as received
    std::string invite_branch;
    uint32_t invite_cseq = 0;
    std::string last_response;  // to the INVITE, resent on its retransmission and by the timers
    uint32_t local_cseq = 0;
    std::string bye;  // ours, resent until answered
    media::Micros retransmit_at = 0;
    media::Micros interval = 0;
    media::Micros give_up_at = 0;
    media::Micros linger_until = 0;
    media::Micros session_expires_at = 0;  // 0: no session timer
    uint32_t session_expires = 0;
    bool reoffer_pending = false;
    bool live = true;
  };

  void on_request(media::Micros now, const SipAddress& from, const SipMessage& m, std::string_view raw);
  void on_response(media::Micros now, const SipMessage& m);
  void on_invite(media::Micros now, const SipAddress& from, const SipMessage& m, std::string_view raw);
  void on_reinvite(media::Micros now, Call& c, const SipAddress& from, const SipMessage& m,
                   std::string_view raw);
  void on_cancel(media::Micros now, const SipAddress& from, const SipMessage& m);
  void on_bye(media::Micros now, const SipAddress& from, const SipMessage& m);
  void on_ack(media::Micros now, const SipMessage& m);
  void respond(const SipAddress& to, const SipMessage& req, int status, std::string_view reason,
               std::string_view to_tag = {},
               const std::vector<std::pair<std::string, std::string>>& headers = {},
               std::string_view body = {});
  // Responds to the call's stored INVITE and keeps the text for retransmission.
  void respond_invite(Call& c, int status, std::string_view reason, std::string_view body = {},
                      const std::vector<std::pair<std::string, std::string>>& extra = {});
  // A 401 with a fresh challenge: a dialog-less record that resends it until the ACK, then goes.
  void challenge(media::Micros now, const SipAddress& from, const SipMessage& m, std::string_view raw,
                 bool stale);
  void send(const SipAddress& to, std::string bytes);
  void emit(SipEvent event);
  void send_bye(media::Micros now, Call& c);
  void end(media::Micros now, Call& c, std::string reason, bool tell);
  void start_retransmit(media::Micros now, Call& c);
  Call* find_dialog(const SipMessage& m);  // by Call-ID and our tag (To in requests)
  Call* find_by_handle(CallHandle h);
  std::string new_tag();
  std::string contact() const;
  void reap(media::Micros now);

  SipUserAgentConfig config_;
  std::optional<DigestAuth> auth_;
  uint64_t rng_;
  CallHandle next_handle_ = 1;
  std::map<CallHandle, Call> calls_;
  size_t live_ = 0;
  std::deque<SipDatagram> out_;
  std::deque<SipEvent> events_;
  SipUserAgentCounters counters_;
};

}  // namespace atrium::sip
