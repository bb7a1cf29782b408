#include "transport/webrtc/rtp/simulcast_layers.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <numeric>
#include <optional>
#include <string_view>

namespace atrium::webrtc {

namespace {

// The rank of `rid` in a naming convention, lowest first; nullopt when the convention does not know it.
using Convention = std::array<std::string_view, 3>;
constexpr std::array<Convention, 3> kConventions{{
    {"q", "h", "f"},
    {"l", "m", "h"},
    {"low", "mid", "high"},
}};

std::optional<int> rank_in(const Convention& c, std::string_view rid) {
  for (size_t i = 0; i < c.size(); ++i)
    if (c[i] == rid) return static_cast<int>(i);
  return std::nullopt;
}

std::optional<int> as_number(std::string_view rid) {
  int v = 0;
  auto [end, ec] = std::from_chars(rid.data(), rid.data() + rid.size(), v);
  if (ec != std::errc() || end != rid.data() + rid.size()) return std::nullopt;
  return v;
}

// The ranks of all rids under one rule, or nullopt if the rule does not name every rid.
template <typename Rank>
std::optional<std::vector<int>> ranks(const std::vector<std::string>& rids, Rank rank) {
  std::vector<int> out;
  for (const auto& r : rids) {
    auto v = rank(r);
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

}  // namespace

std::vector<uint8_t> simulcast_layer_order(const std::vector<std::string>& rids) {
  std::optional<std::vector<int>> rank;
  for (const auto& c : kConventions) {
    rank = ranks(rids, [&](std::string_view r) { return rank_in(c, r); });
    if (rank) break;
  }
  if (!rank) rank = ranks(rids, as_number);
  std::vector<size_t> idx(rids.size());
  std::iota(idx.begin(), idx.end(), 0);
  if (rank)
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return (*rank)[a] < (*rank)[b]; });
  std::vector<uint8_t> layer(rids.size());
  for (size_t pos = 0; pos < idx.size(); ++pos)
    layer[idx[pos]] = static_cast<uint8_t>(pos);
  return layer;
}

}  // namespace atrium::webrtc
