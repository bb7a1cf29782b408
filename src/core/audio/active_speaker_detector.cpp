#include "core/audio/active_speaker_detector.h"

#include <algorithm>
#include <cstdlib>

namespace atrium::core {

ActiveSpeakerDetector::Slot ActiveSpeakerDetector::add_source(const std::string& peer, bool remote) {
  auto it = by_peer_.find(peer);
  if (it != by_peer_.end()) {
    ++peers_[it->second].refs;
    return it->second;
  }
  Slot slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<Slot>(peers_.size());
    peers_.emplace_back();
  }
  Peer& p = peers_[slot];
  p = Peer{};
  p.name = peer;
  p.refs = 1;
  p.remote = remote;
  by_peer_.emplace(peer, slot);
  return slot;
}

void ActiveSpeakerDetector::remove_source(Slot slot) {
  if (slot >= peers_.size() || peers_[slot].refs == 0) return;
  Peer& p = peers_[slot];
  if (--p.refs > 0) return;
  by_peer_.erase(p.name);
  p = Peer{};
  free_.push_back(slot);
  if (dominant_ == static_cast<int>(slot)) dominant_ = -1;
  decide();  // a listed peer that went away leaves the list at once (still at most kMinInterval apart)
}

void ActiveSpeakerDetector::push(Peer& p, BinSummary b) {
  p.history[p.head] = b;
  p.head = (p.head + 1) % p.history.size();
}

void ActiveSpeakerDetector::push_bin(Slot slot, media::Micros now, BinSummary bin) {
  if (slot >= peers_.size() || peers_[slot].refs == 0 || !peers_[slot].remote) return;
  push(peers_[slot], bin);
  peers_[slot].last_push = now;
}

void ActiveSpeakerDetector::close_bins(media::Micros now) {
  for (size_t i = 0; i < peers_.size(); ++i) {
    Peer& p = peers_[i];
    if (p.refs == 0) continue;
    if (p.remote) {  // its node closes its bins; a silent relay is silence
      p.current = Bin{};  // levels fed to a remote slot by mistake count for nothing
      if (now - p.last_push >= kRemoteStale) {
        push(p, BinSummary{});
        p.last_push = now - kRemoteStale + kBin;
      }
      continue;
    }
    const Bin& b = p.current;
    BinSummary s;
    if (b.packets > 0) {
      s.activity = static_cast<uint8_t>(std::min<uint32_t>(255, b.active * 255 / b.packets));
      s.level_dbov = static_cast<uint8_t>(127 - std::min<uint32_t>(127, b.loudness / b.packets));
    }
    push(p, s);
    if (record_) {
      if (closed_.size() >= kMaxRecorded)  // nobody took them (the relay is disconnected): keep the newest
        closed_.erase(closed_.begin(), closed_.begin() + static_cast<std::ptrdiff_t>(kMaxRecorded / 2));
      closed_.emplace_back(p.name, s);
    }
    p.current = Bin{};
  }
}

ActiveSpeakerDetector::Scores ActiveSpeakerDetector::score(const Peer& p) {
  Scores s;
  uint32_t sum = 0, level = 0;
  const size_t n = p.history.size();
  for (int k = 0; k < kLongBins; ++k) {
    const BinSummary& b = p.history[(p.head + n - 1 - static_cast<size_t>(k)) % n];  // newest first
    sum += b.activity;
    if (k < kImmediateBins) level += b.level_dbov;
    if (k + 1 == kImmediateBins) s.immediate = static_cast<float>(sum) / (255.0f * kImmediateBins);
    if (k + 1 == kMediumBins) s.medium = static_cast<float>(sum) / (255.0f * kMediumBins);
  }
  s.longer = static_cast<float>(sum) / (255.0f * kLongBins);
  s.level_dbov = static_cast<uint8_t>(level / kImmediateBins);  // how loud now: the immediate interval
  return s;
}

void ActiveSpeakerDetector::decide() {
  std::vector<std::pair<Slot, Scores>> scored;
  scored.reserve(by_peer_.size());
  for (size_t i = 0; i < peers_.size(); ++i)
    if (peers_[i].refs > 0) scored.emplace_back(static_cast<Slot>(i), score(peers_[i]));

  const Scores* cur = nullptr;
  for (const auto& [slot, s] : scored)
    if (static_cast<int>(slot) == dominant_) cur = &s;
  // The best challenger: active now, most active over the last second.
  const std::pair<Slot, Scores>* best = nullptr;
  for (const auto& e : scored) {
    if (static_cast<int>(e.first) == dominant_) continue;
    if (e.second.immediate < kStartImmediate || e.second.medium < kStartMedium) continue;
    if (!best || e.second.medium > best->second.medium) best = &e;
  }
  if (best) {
    const Scores& c = best->second;
    if (!cur || (c.immediate >= cur->immediate + kImmediateLead && c.medium >= cur->medium + kMediumLead &&
                 c.longer + kLongSlack >= cur->longer))
      dominant_ = static_cast<int>(best->first);
  }

  list_.clear();
  if (dominant_ < 0) return;
  std::vector<std::pair<Slot, Scores>> others;
  for (const auto& e : scored) {
    if (static_cast<int>(e.first) == dominant_) {
      list_.push_back({peers_[e.first].name, e.second.level_dbov});
    } else if (e.second.medium >= kListedMedium) {
      others.push_back(e);
    }
  }
  std::sort(others.begin(), others.end(), [&](const auto& a, const auto& b) {
    if (a.second.medium != b.second.medium) return a.second.medium > b.second.medium;
    return peers_[a.first].name < peers_[b.first].name;
  });
  for (const auto& e : others) {
    if (list_.size() >= kMaxListed) break;
    list_.push_back({peers_[e.first].name, e.second.level_dbov});
  }
}

bool ActiveSpeakerDetector::on_tick(media::Micros now) {
  if (!started_) {
    started_ = true;
    bin_end_ = now + kBin;
  }
  int closed = 0;
  while (now >= bin_end_ && closed < kLongBins) {
    close_bins(bin_end_);
    bin_end_ += kBin;
    ++closed;
  }
  if (now >= bin_end_) bin_end_ = now + kBin;  // ticks stopped for longer than the long interval
  if (closed) decide();

  bool changed = list_.size() != offered_.size();
  for (size_t i = 0; !changed && i < list_.size(); ++i)
    changed = list_[i].peer != offered_[i].peer ||
              std::abs(int{list_[i].level_dbov} - int{offered_[i].level_dbov}) >= kLevelStep;
  if (!changed || (have_offered_ && now - last_offer_ < kMinInterval)) return false;
  offered_ = list_;
  last_offer_ = now;
  have_offered_ = true;
  return true;
}

std::vector<std::pair<std::string, ActiveSpeakerDetector::BinSummary>> ActiveSpeakerDetector::take_closed() {
  std::vector<std::pair<std::string, BinSummary>> out;
  out.swap(closed_);
  return out;
}

}  // namespace atrium::core
