// Which peer a WHEP viewer watches. WHEP carries no room protocol, so the server decides: the peer named by
// `?source=`, else the first peer that publishes in the room; when the watched peer stops publishing a kind,
// the viewer moves to another track of that kind (same peer first, then the earliest other publisher).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/events/endpoint_event.h"
#include "core/events/transport_event.h"

namespace atrium::webrtc {

class WhepSourceSelector {
 public:
  struct Want {
    core::LocalTrackId id;
    media::MediaKind kind;
  };

  // `fixed_source` empty: follow whoever publishes. `wants`: the viewer's local tracks (one per media
  // section).
  WhepSourceSelector(std::string fixed_source, std::vector<Want> wants)
      : fixed_(std::move(fixed_source)), wants_(std::move(wants)), attached_(wants_.size()) {}

  // Feeds a room event the viewer's endpoint emitted; appends the attach/detach controls it implies.
  void on_event(const core::EndpointEvent& event, std::vector<core::TransportEvent>& out);

  // The peer currently watched for a kind, if any.
  std::optional<std::string> source_of(media::MediaKind kind) const;

 private:
  struct Published {
    std::string peer;
    std::string track;
    media::MediaKind kind;
  };
  struct Attached {
    std::string peer;
    std::string track;
  };
  void reselect(std::vector<core::TransportEvent>& out);
  const Published* pick(media::MediaKind kind, const std::string& prefer_peer) const;

  std::string fixed_;
  std::vector<Want> wants_;
  std::vector<std::optional<Attached>> attached_;  // parallel to wants_
  std::vector<Published> published_;               // in the order the room announced them
};

}  // namespace atrium::webrtc
