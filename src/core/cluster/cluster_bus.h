// The seam between endpoints and the rest of the cluster. LocalBus (one process) and NatsClusterBus (many
// nodes) implement it; the hub cannot tell them apart. Sans-IO: controls go in with `now`, deliveries are
// polled.
#pragma once

#include <cstddef>
#include <optional>

#include "core/events/cluster_control.h"
#include "core/events/cluster_event.h"
#include "core/ids.h"

namespace atrium::core {

struct ClusterDelivery {
  EndpointId to;
  ClusterEvent event;
};

struct BusStats {
  size_t rooms = 0;     // rooms with at least one peer on this node
  size_t peers = 0;     // peers whose endpoint lives on this node
  size_t tracks = 0;    // tracks published from this node
  size_t channels = 0;  // media channels with a publisher or a subscriber here
  size_t subscriptions = 0;
};

class ClusterBus {
 public:
  virtual ~ClusterBus() = default;
  virtual void send(media::Micros now, EndpointId from, ClusterControl&& control) = 0;
  virtual std::optional<ClusterDelivery> pop_delivery() = 0;
  virtual void on_tick(media::Micros now) = 0;
  virtual BusStats stats() const = 0;
};

}  // namespace atrium::core
