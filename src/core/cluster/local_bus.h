// The embedded cluster: every endpoint in one process (one worker), no external service. It is the
// ChannelRouter alone: with nothing beyond this process, the router's view of a room is the whole room, and
// a join is decided the moment it arrives.
#pragma once

#include <string>

#include "core/cluster/channel_router.h"
#include "core/cluster/cluster_bus.h"

namespace atrium::core {

class LocalBus final : public ClusterBus {
 public:
  void send(media::Micros now, EndpointId from, ClusterControl&& control) override;
  std::optional<ClusterDelivery> pop_delivery() override { return router_.out().pop(); }
  void on_tick(media::Micros now) override { router_.on_tick(now); }
  BusStats stats() const override { return router_.stats(); }

  const RoomDirectory* room(const std::string& name) const { return router_.room(name); }
  const ChannelRouter& router() const { return router_; }

 private:
  ChannelRouter router_;
};

}  // namespace atrium::core
