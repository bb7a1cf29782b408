#include "core/hub/endpoint_hub.h"

namespace atrium::core {

EndpointId EndpointHub::create_endpoint() {
  const EndpointId id = next_id_++;
  endpoints_.emplace(id, std::make_unique<Endpoint>(id));
  return id;
}

void EndpointHub::remove_endpoint(media::Micros now, EndpointId id) {
  auto it = endpoints_.find(id);
  if (it == endpoints_.end()) return;
  // A join still waiting for the bus's verdict is withdrawn the same way, so the bus forgets it.
  if (it->second->joined() || it->second->joining()) it->second->on_transport(now, tev::Leave{});
  std::unique_ptr<Endpoint> ep = std::move(it->second);
  endpoints_.erase(it);
  // Its last controls (tracks ended, peer left) still reach the cluster; its transport events are dropped.
  while (auto o = ep->pop_output())
    if (auto* c = std::get_if<ClusterControl>(&*o)) bus_.send(now, id, std::move(*c));
  pump(now);
}

void EndpointHub::on_transport(media::Micros now, EndpointId id, TransportEvent&& event) {
  auto it = endpoints_.find(id);
  if (it == endpoints_.end()) return;
  it->second->on_transport(now, std::move(event));
  drain(now, *it->second);
  pump(now);
}

void EndpointHub::on_tick(media::Micros now) {
  bus_.on_tick(now);
  for (auto& [id, ep] : endpoints_) {
    ep->on_tick(now);
    drain(now, *ep);
  }
  pump(now);
}

void EndpointHub::drain(media::Micros now, Endpoint& ep) {
  while (auto o = ep.pop_output()) {
    if (auto* e = std::get_if<EndpointEvent>(&*o))
      out_.push({ep.id(), std::move(*e)});
    else
      bus_.send(now, ep.id(), std::move(std::get<ClusterControl>(*o)));
  }
}

void EndpointHub::pump(media::Micros now) {
  // Deliveries can cause more controls (a subscriber asking for a key frame...); the loop runs until the bus
  // is quiet, in FIFO order, without recursion.
  while (auto d = bus_.pop_delivery()) {
    auto it = endpoints_.find(d->to);
    if (it == endpoints_.end()) continue;
    it->second->on_cluster(now, std::move(d->event));
    drain(now, *it->second);
  }
}

std::optional<HubOutput> EndpointHub::pop_output() {
  while (auto o = out_.pop())
    if (endpoints_.count(o->to)) return o;
  return std::nullopt;
}

const Endpoint* EndpointHub::endpoint(EndpointId id) const {
  auto it = endpoints_.find(id);
  return it == endpoints_.end() ? nullptr : it->second.get();
}

HubStats EndpointHub::stats() const {
  HubStats s;
  s.endpoints = endpoints_.size();
  for (const auto& [id, ep] : endpoints_) {
    s.remote_tracks += ep->remote_tracks().size();
    s.local_tracks += ep->local_tracks().size();
  }
  s.bus = bus_.stats();
  return s;
}

}  // namespace atrium::core
