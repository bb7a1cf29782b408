// The sessions of one worker and every way to find one: by id (the HTTP resource / SDK resume), by core
// endpoint (the hub's outputs), by remote address and by our ICE ufrag (datagrams), by WebSocket (SDK
// messages). It also keeps the sessions that closed and wait to be removed, and, for a minute, the ids of
// those that went. Only the worker's thread touches it.
//
// Demultiplexing (one port for every session of the worker): a datagram from a known address goes to that
// address's session; otherwise only a STUN binding request can open a path, found by the ufrag in its
// USERNAME, and the address joins the table once the session authenticated it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ids.h"
#include "server/http/websocket_connection.h"
#include "server/webrtc/pending_sessions.h"
#include "server/webrtc/udp_port.h"
#include "server/webrtc/whip_resource.h"
#include "transport/sdk/sdk_session.h"
#include "transport/webrtc/net/socket_address.h"
#include "transport/webrtc/session/udp_session.h"

namespace atrium::server {

struct SessionEntry {
  std::string id;
  core::EndpointId endpoint = 0;
  std::unique_ptr<webrtc::UdpSession> session;
  std::unique_ptr<WhipResource> whip;  // WHIP/WHEP: the session as an HTTP resource
  sdk::SdkSession* sdk = nullptr;      // SDK: session, viewed as what it is
  std::shared_ptr<WebSocketConnection> ws;
  std::string description;        // for logs: "whip room/peer"
  PendingSessions::Slot pending;  // held until the session connects (dropped then, or with the entry)
  UdpPort::Outbox out;            // its datagrams in the port's send batch
  // The media connection (its connected_at()) whose time to first video the histogram has counted.
  std::optional<int64_t> first_video_counted;
  // The media connection whose transport (udp, tcp or relay) was logged and counted.
  std::optional<int64_t> transport_counted;
  // Its ICE-TCP connections (their remote ends), closed with it.
  std::vector<webrtc::SocketAddress> tcp_paths;

  // The table's own: what it indexed this session under.
  std::string ufrag;
  std::vector<webrtc::SocketAddress> addresses;
};

class SessionTable {
 public:
  // Indexes `entry` (its id, endpoint, ufrag and WebSocket must be set).
  SessionEntry& add(std::unique_ptr<SessionEntry> entry);
  // Takes `e` out of every index (and the closed list) and remembers its id as recently closed.
  std::unique_ptr<SessionEntry> take(int64_t now, SessionEntry& e);

  SessionEntry* find(const std::string& id) const;
  SessionEntry* by_endpoint(core::EndpointId id) const;
  SessionEntry* by_ws(const WebSocketConnection* ws) const;
  // The session a datagram from `from` is for, or nullptr. An ICE-TCP connection's first frame is looked up
  // the same way (its remote end is an address no session validated yet).
  SessionEntry* for_datagram(const webrtc::SocketAddress& from, std::span<const uint8_t> data) const;
  bool empty() const { return by_id_.empty(); }
  template <typename Fn>
  void for_each(Fn&& fn) {
    for (auto& [id, e] : by_id_)
      fn(*e);
  }

  // The session validated new addresses: datagrams from them now go to it.
  void learn_addresses(SessionEntry& e);
  // The session's ICE ufrag changed (ICE restart, an SDK connection replaced): checks find it by the new one.
  void sync_ufrag(SessionEntry& e);
  // The session's signalling is `ws` from now on (an SDK resume); it must have none (release_ws first).
  void bind_ws(SessionEntry& e, std::shared_ptr<WebSocketConnection> ws);
  // The session's WebSocket, no longer bound to it (nullptr when it had none).
  std::shared_ptr<WebSocketConnection> release_ws(SessionEntry& e);

  // A closed session waits here until the runtime removes it (once, however often it is noted).
  void note_closed(SessionEntry& e);
  SessionEntry* next_closed();  // the longest waiting one, taken off the list; nullptr when none

  // Sessions that ended in the last minute: a DELETE that arrives after the browser's pc.close() still gets
  // 200, as the client did nothing wrong. `forget_recent` is true when `id` was one (and is no more).
  bool forget_recent(const std::string& id) { return recently_closed_.erase(id) > 0; }
  void prune_recent(int64_t now);

 private:
  void unindex_ws(SessionEntry& e);

  std::unordered_map<std::string, std::unique_ptr<SessionEntry>> by_id_;
  std::unordered_map<core::EndpointId, SessionEntry*> by_endpoint_;
  std::unordered_map<std::string, SessionEntry*> by_ufrag_;
  std::unordered_map<webrtc::SocketAddress, SessionEntry*, webrtc::SocketAddressHash> by_address_;
  std::unordered_map<const WebSocketConnection*, SessionEntry*> by_ws_;
  std::vector<SessionEntry*> closed_;
  std::unordered_map<std::string, int64_t> recently_closed_;
};

}  // namespace atrium::server
