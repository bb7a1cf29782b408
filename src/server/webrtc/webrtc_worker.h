// The WebRTC runtime of one media worker: its UDP socket, its sessions, and the pump between them and the
// worker's EndpointHub. Everything here runs on the worker's thread; the HTTP side reaches it by posting.
//
// Demultiplexing (one port for every session of the worker): a datagram from a known address goes to that
// address's session; otherwise only a STUN binding request can open a path, found by the ufrag in its
// USERNAME, and the address joins the table once the session authenticated it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/http/websocket_connection.h"
#include "server/webrtc/pending_sessions.h"
#include "server/worker.h"
#include "server/worker_core.h"
#include "transport/sdk/sdk_session.h"
#include "transport/webrtc/session/webrtc_session.h"

namespace atrium::server {

// Per-worker counters read by /metrics from the HTTP thread.
struct WebRtcCounters {
  std::atomic<int64_t> sessions{0};
  std::atomic<uint64_t> datagrams_in{0}, datagrams_out{0}, bytes_in{0}, bytes_out{0};
  std::atomic<uint64_t> rtp_in{0}, rtp_out{0}, rtcp_in{0}, rtcp_out{0};
  std::atomic<uint64_t> nacks_in{0}, nack_resent{0}, plis_in{0}, plis_out{0};
  std::atomic<uint64_t> twcc_feedback_in{0}, padding_out{0}, remb_out{0}, nacks_out{0}, nack_duplicated{0};
  std::atomic<uint64_t> rtx_duplicates{0};
  std::atomic<uint64_t> srtp_failures{0}, stun_bad_integrity{0}, malformed{0};
  std::atomic<uint64_t> unknown_dropped{0};  // matched no session, or a session could not place it
  std::atomic<uint64_t> send_errors{0};
};

struct SessionOffer {
  webrtc::SessionKind kind = webrtc::SessionKind::kPublish;
  std::string room;
  std::string peer;
  std::string source;  // WHEP ?source=
  std::string sdp;
  // The pending-session slot the HTTP side took for this offer (PendingSessions): the session holds it until
  // it connects; an offer that never becomes one gives it back by being destroyed.
  PendingSessions::Slot pending;
};

// Who asks to change or end a session: the verified claims of the request's bearer token. Without
// --auth-secret there are none, and the unguessable session id is the only key.
struct SessionCaller {
  std::string room;  // or "*"
  std::string peer;  // empty: any peer of the room
  bool admin = false;
};

struct SessionCreated {
  unsigned status = 201;  // or 400/406/409/422/503
  std::string error;      // a sentence, when status is not 201
  std::string id;
  std::string answer;
  std::string etag;
};

struct SessionPatched {
  unsigned status = 204;  // 200 (ICE restart), 204, 400, 403, 404, 412, 422
  std::string error;
  std::string body;  // restart: the answer fragment
  std::string etag;
};

struct SessionDeleted {
  unsigned status = 200;  // or 403, 404
  std::string error;
};

struct WebRtcWorkerSettings {
  std::shared_ptr<webrtc::DtlsContext> dtls;
  std::vector<std::string> candidate_ips;  // advertised in this order, with this worker's port
  // Slots reserved against --max-sessions by the HTTP side; the worker gives one back for every offer it was
  // handed that did not become a session, and for every session it removes.
  std::atomic<int64_t>* reserved_sessions = nullptr;
};

class WebRtcWorker {
 public:
  static constexpr std::chrono::milliseconds kTick{10};

  WebRtcWorker(Worker& worker, WorkerCore& core, WebRtcWorkerSettings settings, WebRtcCounters& counters);
  ~WebRtcWorker();

  // Binds the worker's UDP socket; "" or a sentence saying why not.
  std::string open(const boost::asio::ip::address& bind, uint16_t port);
  uint16_t port() const { return port_; }

  // `answer` runs on this worker once the session's join is decided: at once with the embedded bus, when the
  // directory's claim completes with a NATS bus (the worker goes on meanwhile).
  void create_session(SessionOffer offer, std::function<void(SessionCreated)> answer);

  // The room SDK over a WebSocket. The first message of a connection (a join, possibly resuming a session by
  // id and secret) goes to sdk_open; later ones to sdk_message; sdk_closed when the socket is gone.
  // `reserved`: the HTTP side took a --max-sessions slot for this join (resumes take none);
  // `pending`: the pending-session slot taken for it, held until its media connects.
  void sdk_open(std::shared_ptr<WebSocketConnection> ws, std::string text, sdk::SdkPermissions permissions,
                bool reserved, PendingSessions::Slot pending);
  void sdk_message(const WebSocketConnection* ws, std::string text);
  void sdk_closed(const WebSocketConnection* ws);
  // `caller`: the token's claims (with --auth-secret); a session of another room, or of another peer when the
  // token names one and is not an admin's, is refused with 403.
  SessionPatched patch_session(const std::string& id, const std::optional<SessionCaller>& caller,
                               std::string_view if_match, std::string_view fragment);
  SessionDeleted delete_session(const std::string& id, const std::optional<SessionCaller>& caller);

 private:
  struct Entry {
    std::string id;
    core::EndpointId endpoint = 0;
    std::unique_ptr<webrtc::UdpSession> session;
    webrtc::WebRtcSession* whip = nullptr;  // WHIP/WHEP: session, viewed as what it is
    sdk::SdkSession* sdk = nullptr;         // SDK: session, viewed as what it is
    std::shared_ptr<WebSocketConnection> ws;
    std::string etag;
    std::string remote_ufrag;
    std::string ufrag;
    std::vector<webrtc::SocketAddress> addresses;
    webrtc::Answer answer;
    std::string description;  // for logs: "whip room/peer"
    std::string room;         // WHIP/WHEP: whose session it is, for PATCH/DELETE tokens
    std::string peer;
    PendingSessions::Slot pending;  // held until the session connects (dropped then, or with the entry)
    size_t batched = 0;  // datagrams at the front of the session's queue that are in the send batch
    std::function<void(SessionCreated)> answer_when_joined;  // WHIP/WHEP: the POST waiting for the verdict
  };
  struct SendBatch;  // sendmmsg arrays (webrtc_worker.cpp)

  // Negotiates an offer into a media session (ICE credentials, our candidates, SSRCs to send with).
  struct Media {
    std::unique_ptr<webrtc::WebRtcSession> session;
    webrtc::Answer answer;
    unsigned status = 201;
    std::string error;
  };
  Media make_media(webrtc::SessionKind kind, const core::JoinParams& join, const std::string& source,
                   const std::string& offer_sdp, bool join_room);
  Entry* add_entry(std::unique_ptr<Entry> entry);
  void sync_ufrag(Entry& e);
  // Answers the POST once the join was accepted or refused; `ending`: the session goes, answer whatever is
  // known.
  void answer_if_decided(Entry& e, bool ending = false);
  void after_sdk_input(int64_t now, Entry* e);
  void receive();
  void on_datagram(int64_t now, const webrtc::SocketAddress& from, std::span<uint8_t> data);
  void pump(int64_t now, Entry* first);
  void flush(Entry& e);  // the session's new datagrams join the send batch
  void send_batch();     // one sendmmsg per up to kSendBatch datagrams, then they leave their queues
  void learn_addresses(Entry& e);
  void tick(int64_t now);
  void remove(int64_t now, Entry* e);
  Entry* by_endpoint(core::EndpointId id);
  void sync_stats(Entry& e);
  // Why `caller` may not touch `e` ("" when it may).
  static std::string refusal(const Entry& e, const std::optional<SessionCaller>& caller);
  void release_slot() {
    if (settings_.reserved_sessions) settings_.reserved_sessions->fetch_sub(1, std::memory_order_relaxed);
  }

  Worker& worker_;
  WorkerCore& core_;
  WebRtcWorkerSettings settings_;
  WebRtcCounters& counters_;
  boost::asio::ip::udp::socket socket_;
  uint16_t port_ = 0;
  std::vector<uint8_t> receive_buffer_;
  std::unique_ptr<SendBatch> batch_;
  std::unordered_map<std::string, std::unique_ptr<Entry>> by_id_;
  std::unordered_map<core::EndpointId, Entry*> by_endpoint_;
  std::unordered_map<std::string, Entry*> by_ufrag_;
  std::unordered_map<webrtc::SocketAddress, Entry*, webrtc::SocketAddressHash> by_address_;
  std::unordered_map<const WebSocketConnection*, Entry*> by_ws_;
  std::vector<Entry*> pending_;
  std::vector<Entry*> closed_;
  // Sessions that ended on their own (DTLS close, consent) in the last minute: a DELETE that arrives after
  // the browser's pc.close() still gets 200, as the client did nothing wrong.
  std::unordered_map<std::string, int64_t> recently_closed_;
  // What each session's counters were when last added to the worker totals.
  std::unordered_map<Entry*, webrtc::WebRtcSessionStats> reported_;
};

}  // namespace atrium::server
