// One worker's media core: its endpoints and the cluster bus they share, pumped until quiet after every
// input. Transports feed it events and poll what their clients must be told or sent. Nothing here blocks,
// allocates per packet after warm-up, or reads a clock.
#pragma once

#include <memory>
#include <optional>
#include <unordered_map>

#include "core/cluster/cluster_bus.h"
#include "core/endpoint/endpoint.h"
#include "core/util/ring_queue.h"

namespace atrium::core {

struct HubOutput {
  EndpointId to;
  EndpointEvent event;
};

struct HubStats {
  size_t endpoints = 0;
  size_t remote_tracks = 0;
  size_t local_tracks = 0;
  BusStats bus;
};

class EndpointHub {
 public:
  explicit EndpointHub(ClusterBus& bus) : bus_(bus) {}

  EndpointId create_endpoint();
  // Leaves the room if needed and forgets the endpoint; nothing more is output for it.
  void remove_endpoint(media::Micros now, EndpointId id);

  void on_transport(media::Micros now, EndpointId id, TransportEvent&& event);
  void on_tick(media::Micros now);
  // For buses that receive from the network: deliver what they have queued.
  void on_bus(media::Micros now) { pump(now); }

  std::optional<HubOutput> pop_output();

  const Endpoint* endpoint(EndpointId id) const;
  HubStats stats() const;

 private:
  void drain(media::Micros now, Endpoint& ep);
  void pump(media::Micros now);

  ClusterBus& bus_;
  EndpointId next_id_ = 1;
  std::unordered_map<EndpointId, std::unique_ptr<Endpoint>> endpoints_;
  RingQueue<HubOutput> out_{256};
};

}  // namespace atrium::core
