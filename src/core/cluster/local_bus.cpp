#include "core/cluster/local_bus.h"

namespace atrium::core {

void LocalBus::send(media::Micros, EndpointId from, ClusterControl&& control) {
  if (auto* media = std::get_if<ccl::RemoteTrackMedia>(&control)) {  // the hot path first
    router_.on_media(from, media->id, media->packet);
    return;
  }
  auto* join = std::get_if<ccl::PeerJoin>(&control);
  if (!join) return router_.route(from, std::move(control));
  if (auto refused = router_.check_join(from, join->params)) {
    router_.out().push({from, cev::JoinRejected{std::move(*refused)}});
    return;
  }
  router_.hold_join(from, join->params);
  router_.admit(from);  // this process is the whole cluster: what the router knows decides
}

}  // namespace atrium::core
