// A WHIP (RFC 9725) or WHEP session as an HTTP resource, /session/{id}: the requests that reach it and what
// they get back, who may change it, its ETag and If-Match rules, and PATCH (RFC 8840 fragments): trickled
// candidates are acknowledged (an ICE-lite server learns addresses from the checks themselves), a new remote
// ufrag is an ICE restart answered with our new credentials and candidates.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/webrtc/pending_sessions.h"
#include "transport/webrtc/sdp/negotiator.h"
#include "transport/webrtc/session/webrtc_session.h"

namespace atrium::server {

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
  unsigned status = 204;  // 200 (ICE restart), 204, 400, 403, 404, 412, 422, 428
  std::string error;
  std::string body;  // restart: the answer fragment
  std::string etag;
};

struct SessionDeleted {
  unsigned status = 200;  // or 403, 404
  std::string error;
};

class WhipResource {
 public:
  // `session` is the resource's media session (owned next to it); `answer` the negotiated answer.
  WhipResource(webrtc::WebRtcSession& session, webrtc::Answer answer, std::string room, std::string peer);

  webrtc::WebRtcSession& session() { return session_; }
  const std::string& etag() const { return etag_; }
  // The 201 for the POST that made it, at resource `id`.
  SessionCreated created(const std::string& id) const;

  // The POST that made it waits for the join's verdict: at once with the embedded bus, when the cluster
  // directory's claim completes with NATS. `answer` runs once, from answer_if_decided; `name` is for the log.
  void answer_when_joined(std::string id, std::string name, std::function<void(SessionCreated)> answer);
  // Answers the waiting POST if the join was accepted (201) or refused (409 for a refusal the client must
  // change, such as a taken peer id; 503 for a cluster directory that did not answer); `ending`: the session
  // goes, so answer whatever is known (503 while still joining).
  void answer_if_decided(bool ending = false);

  // Why `caller` may not touch this session ("" when it may): a token of another room, or of another peer
  // when the token names one and is not an admin's.
  std::string refusal(const std::optional<SessionCaller>& caller) const;

  // PATCH with `if_match` (empty when absent) and a trickle-ice-sdpfrag `body`: 403, 412 (stale ETag),
  // 400 (not a fragment), 204 (trickle), 422/428 (a restart without a password / without If-Match), or 200:
  // the session takes new ICE credentials (its ufrag changes), the ETag changes, and the body is our
  // fragment with `ours` as candidates.
  SessionPatched patch(const std::optional<SessionCaller>& caller, std::string_view if_match,
                       std::string_view body, const std::vector<webrtc::HostCandidate>& ours);

 private:
  webrtc::WebRtcSession& session_;
  webrtc::Answer answer_;
  std::string remote_ufrag_;  // the client's, as of the offer or its last restart
  std::string etag_;
  std::string room_;  // whose session it is, for PATCH/DELETE tokens
  std::string peer_;
  std::string id_;
  std::string name_;
  std::function<void(SessionCreated)> waiting_;
};

}  // namespace atrium::server
