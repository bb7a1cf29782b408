#include "server/webrtc/whip_resource.h"

#include <spdlog/spdlog.h>

#include "server/webrtc/random_id.h"
#include "transport/webrtc/sdp/ice_fragment.h"

namespace atrium::server {

namespace {

std::string new_etag() {
  return "\"" + random_hex(8) + "\"";
}

}  // namespace

WhipResource::WhipResource(webrtc::WebRtcSession& session, webrtc::Answer answer, std::string room,
                           std::string peer)
    : session_(session),
      answer_(std::move(answer)),
      remote_ufrag_(answer_.remote_ice_ufrag),
      etag_(new_etag()),
      room_(std::move(room)),
      peer_(std::move(peer)) {}

SessionCreated WhipResource::created(const std::string& id) const {
  SessionCreated result;
  result.id = id;
  result.answer = answer_.sdp;
  result.etag = etag_;
  return result;
}

void WhipResource::answer_when_joined(std::string id, std::string name,
                                      std::function<void(SessionCreated)> answer) {
  id_ = std::move(id);
  name_ = std::move(name);
  waiting_ = std::move(answer);
}

void WhipResource::answer_if_decided(bool ending) {
  if (!waiting_) return;
  SessionCreated result;
  if (session_.join_failed()) {
    result.status = session_.join_error() == core::ErrorCode::kUnavailable ? 503 : 409;
    result.error = session_.close_reason();
  } else if (session_.closed() || ending) {
    result.status = 503;
    result.error = "the session ended before its join was answered: " + session_.close_reason();
  } else if (session_.joined()) {
    spdlog::info("webrtc: session {} created ({})", id_, name_);
    result = created(id_);
  } else {
    return;  // still joining
  }
  auto answer = std::move(waiting_);
  waiting_ = nullptr;
  answer(std::move(result));
}

std::string WhipResource::refusal(const std::optional<SessionCaller>& caller) const {
  if (!caller) return {};
  if (caller->room != "*" && caller->room != room_)
    return "PERMISSION_DENIED: this token is for room '" + caller->room + "', not the session's room";
  if (!caller->admin && !caller->peer.empty() && caller->peer != peer_)
    return "PERMISSION_DENIED: this token is for peer '" + caller->peer + "', not the session's peer";
  return {};
}

SessionPatched WhipResource::patch(const std::optional<SessionCaller>& caller, std::string_view if_match,
                                   std::string_view body, const std::vector<webrtc::HostCandidate>& ours) {
  if (auto why = refusal(caller); !why.empty()) return {403, std::move(why), {}, {}};
  if (!if_match.empty() && if_match != "*" && if_match != etag_)
    return {412,
            "the session changed: If-Match " + std::string(if_match) + " is not the current ETag " + etag_,
            {},
            {}};
  const auto fragment = webrtc::parse_ice_fragment(body);
  if (!fragment) return {400, "the body is not an SDP fragment (RFC 8840)", {}, {}};
  const bool restart = !fragment->ufrag.empty() && fragment->ufrag != remote_ufrag_;
  if (!restart) return {204, {}, {}, {}};  // trickled candidates: an ICE-lite server learns them from checks
  if (fragment->pwd.empty()) return {422, "an ICE restart needs both a=ice-ufrag and a=ice-pwd", {}, {}};
  if (if_match.empty()) return {428, "an ICE restart needs If-Match: \"*\"", {}, {}};

  auto ice = webrtc::IceCredentials::random();
  remote_ufrag_ = fragment->ufrag;
  session_.restart_ice(ice);
  etag_ = new_etag();
  return {200, {}, webrtc::write_ice_restart_fragment(ice.ufrag, ice.pwd, answer_.media, ours), etag_};
}

}  // namespace atrium::server
