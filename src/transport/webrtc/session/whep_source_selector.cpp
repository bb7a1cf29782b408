#include "transport/webrtc/session/whep_source_selector.h"

#include <algorithm>

namespace atrium::webrtc {

void WhepSourceSelector::on_event(const core::EndpointEvent& event, std::vector<core::TransportEvent>& out) {
  if (auto* p = std::get_if<core::eev::TrackPublished>(&event)) {
    published_.push_back({p->peer, p->info.name, p->info.kind});
  } else if (auto* u = std::get_if<core::eev::TrackUnpublished>(&event)) {
    std::erase_if(published_, [&](const Published& x) { return x.peer == u->peer && x.track == u->track; });
    for (auto& a : attached_)
      if (a && a->peer == u->peer && a->track == u->track) a.reset();
  } else if (auto* l = std::get_if<core::eev::PeerLeft>(&event)) {
    std::erase_if(published_, [&](const Published& x) { return x.peer == l->peer; });
    for (auto& a : attached_)
      if (a && a->peer == l->peer) a.reset();
  } else if (auto* s = std::get_if<core::eev::LocalTrackSourceEnded>(&event)) {
    for (size_t i = 0; i < wants_.size(); ++i)
      if (wants_[i].id == s->id) attached_[i].reset();
  } else {
    return;
  }
  reselect(out);
}

const WhepSourceSelector::Published* WhepSourceSelector::pick(media::MediaKind kind,
                                                              const std::string& prefer_peer) const {
  const Published* first = nullptr;
  for (const auto& p : published_) {
    if (p.kind != kind || (!fixed_.empty() && p.peer != fixed_)) continue;
    if (p.peer == prefer_peer) return &p;
    if (!first) first = &p;
  }
  return first;
}

void WhepSourceSelector::reselect(std::vector<core::TransportEvent>& out) {
  // Keep audio and video from one peer: the peer already watched for another kind is preferred.
  std::string current;
  for (const auto& a : attached_)
    if (a) current = a->peer;
  for (size_t i = 0; i < wants_.size(); ++i) {
    if (attached_[i]) continue;
    const Published* p = pick(wants_[i].kind, current);
    if (!p) continue;
    attached_[i] = Attached{p->peer, p->track};
    current = p->peer;
    out.emplace_back(core::tev::Attach{wants_[i].id, p->peer, p->track});
  }
}

std::optional<std::string> WhepSourceSelector::source_of(media::MediaKind kind) const {
  for (size_t i = 0; i < wants_.size(); ++i)
    if (wants_[i].kind == kind && attached_[i]) return attached_[i]->peer;
  return std::nullopt;
}

}  // namespace atrium::webrtc
