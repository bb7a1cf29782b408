#include "server/webrtc/session_table.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "media/stun/stun_message.h"

namespace atrium::server {

namespace {

constexpr int64_t kRememberClosed = 60'000'000;  // µs
constexpr size_t kMaxRememberedClosed = 10000;

// The ufrag a binding request is addressed to: USERNAME is "<our ufrag>:<their ufrag>".
std::optional<std::string_view> stun_target_ufrag(std::span<const uint8_t> data) {
  auto msg = media::StunMessage::parse(data);
  if (!msg || msg->type() != media::kStunBindingRequest) return std::nullopt;
  auto user = msg->username();
  if (!user) return std::nullopt;
  const auto colon = user->find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return user->substr(0, colon);
}

}  // namespace

SessionEntry& SessionTable::add(std::unique_ptr<SessionEntry> entry) {
  SessionEntry& e = *entry;
  by_endpoint_[e.endpoint] = &e;
  if (e.ws) by_ws_[e.ws.get()] = &e;
  by_id_[e.id] = std::move(entry);
  sync_ufrag(e);
  return e;
}

std::unique_ptr<SessionEntry> SessionTable::take(int64_t now, SessionEntry& e) {
  auto it = by_id_.find(e.id);
  if (it == by_id_.end() || it->second.get() != &e) return nullptr;
  if (recently_closed_.size() < kMaxRememberedClosed) recently_closed_[e.id] = now;
  for (const auto& a : e.addresses) {
    auto found = by_address_.find(a);
    if (found != by_address_.end() && found->second == &e) by_address_.erase(found);
  }
  if (auto u = by_ufrag_.find(e.ufrag); u != by_ufrag_.end() && u->second == &e) by_ufrag_.erase(u);
  by_endpoint_.erase(e.endpoint);
  unindex_ws(e);  // the runtime still closes e.ws
  closed_.erase(std::remove(closed_.begin(), closed_.end(), &e), closed_.end());
  auto owned = std::move(it->second);
  by_id_.erase(it);
  return owned;
}

SessionEntry* SessionTable::find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

SessionEntry* SessionTable::by_endpoint(core::EndpointId id) const {
  auto it = by_endpoint_.find(id);
  return it == by_endpoint_.end() ? nullptr : it->second;
}

SessionEntry* SessionTable::by_ws(const WebSocketConnection* ws) const {
  auto it = by_ws_.find(ws);
  return it == by_ws_.end() ? nullptr : it->second;
}

SessionEntry* SessionTable::for_datagram(const webrtc::SocketAddress& from,
                                         std::span<const uint8_t> data) const {
  if (auto it = by_address_.find(from); it != by_address_.end()) return it->second;
  if (auto ufrag = stun_target_ufrag(data)) {
    if (auto u = by_ufrag_.find(std::string(*ufrag)); u != by_ufrag_.end()) return u->second;
  }
  return nullptr;
}

void SessionTable::learn_addresses(SessionEntry& e) {
  const auto& validated = e.session->validated_addresses();
  if (validated.size() == e.addresses.size()) return;
  for (size_t i = e.addresses.size(); i < validated.size(); ++i) {
    const webrtc::SocketAddress& a = validated[i];
    auto [it, inserted] = by_address_.emplace(a, &e);
    if (!inserted && it->second != &e) it->second = &e;  // the client reused a port for a new session
    e.addresses.push_back(a);
  }
}

void SessionTable::sync_ufrag(SessionEntry& e) {
  const std::string& now_ufrag = e.session->ice_ufrag();
  if (now_ufrag == e.ufrag) return;
  if (!e.ufrag.empty()) {
    auto it = by_ufrag_.find(e.ufrag);
    if (it != by_ufrag_.end() && it->second == &e) by_ufrag_.erase(it);
  }
  e.ufrag = now_ufrag;
  if (!e.ufrag.empty()) by_ufrag_[e.ufrag] = &e;
}

void SessionTable::bind_ws(SessionEntry& e, std::shared_ptr<WebSocketConnection> ws) {
  unindex_ws(e);
  e.ws = std::move(ws);
  if (e.ws) by_ws_[e.ws.get()] = &e;
}

std::shared_ptr<WebSocketConnection> SessionTable::release_ws(SessionEntry& e) {
  unindex_ws(e);
  return std::move(e.ws);
}

void SessionTable::unindex_ws(SessionEntry& e) {
  if (!e.ws) return;
  auto it = by_ws_.find(e.ws.get());
  if (it != by_ws_.end() && it->second == &e) by_ws_.erase(it);
}

void SessionTable::note_closed(SessionEntry& e) {
  if (std::find(closed_.begin(), closed_.end(), &e) == closed_.end()) closed_.push_back(&e);
}

SessionEntry* SessionTable::next_closed() {
  if (closed_.empty()) return nullptr;
  SessionEntry* e = closed_.front();
  closed_.erase(closed_.begin());
  return e;
}

void SessionTable::prune_recent(int64_t now) {
  std::erase_if(recently_closed_, [now](const auto& kv) { return now - kv.second > kRememberClosed; });
}

}  // namespace atrium::server
