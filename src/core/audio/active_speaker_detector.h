// Who is speaking in one room, sans-IO. Fed one audio level per packet (dBov, RFC 6464: 0 = loudest, 127 =
// silence) for a peer's slot; decides on the tick, with `now` passed in.
//
// The idea is the dominant-speaker one (Volfin & Cohen, "Dominant Speaker Identification for Multipoint
// Videoconferencing", 2013): speech activity is scored over three time intervals of different lengths, and
// a challenger must beat the current speaker on all of them, so a transient (a cough, a door) does not take
// the floor and a long talker keeps it through short pauses and interjections. This is our own, simpler
// form of it:
//
//  - per packet: a packet at kActiveLevel dBov or louder counts as speech; the packet adds to its peer's
//    current bin (three integer adds, nothing else);
//  - every kBin (100 ms, closed from on_tick), each peer's bin becomes one activity value (the share of its
//    packets that were speech; no packets = silence, as a DTX sender's silence is) and a mean level;
//  - scores are mean activities over the last kImmediateBins (300 ms), kMediumBins (1 s) and kLongBins
//    (2 s);
//  - with no dominant speaker, the first peer that is active now (immediate >= 0.5) and was for half of the
//    last second (medium >= 0.5) becomes it: a 200 ms cough scores medium 0.2 and is never chosen;
//  - a challenger replaces the dominant speaker when it leads on every interval: immediate by kImmediateLead,
//    medium by kMediumLead, and on the long interval it is at most kLongSlack behind. A speaker who stops is
//    replaced after about 0.9 s of someone else's sustained speech; a 600 ms interjection during a long
//    talker's pause is not enough (the long interval still favours the talker);
//  - silence keeps the last dominant speaker (a room that went quiet still shows who spoke last); it goes
//    only when its peer stops publishing audio.
//
// The list (speakers()) is the dominant speaker first, then up to kMaxListed - 1 other peers active in the
// last second (medium >= kListedMedium), most active first; empty while there is no dominant speaker. A
// listed level is the mean over the immediate interval (how loud the peer is now; 127 when silent). It is
// offered (on_tick returns true) only when it changed (order, a peer in or out, or a listed level moved by
// kLevelStep dB or more since the last one offered), and at most once per kMinInterval (4 a second).
//
// Remote peers (published on another node, learned through the cluster relay): their bins come ready-made
// (push_bin), delayed by the relay; a remote slot that hears nothing for kRemoteStale counts as silent.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/events/room_types.h"
#include "media/media_packet.h"

namespace atrium::core {

class ActiveSpeakerDetector {
 public:
  using Slot = uint32_t;

  static constexpr media::Micros kBin = 100'000;
  static constexpr int kImmediateBins = 3;
  static constexpr int kMediumBins = 10;
  static constexpr int kLongBins = 20;
  static constexpr uint8_t kActiveLevel = 50;  // -50 dBov or louder is speech
  static constexpr float kStartImmediate = 0.5f;
  static constexpr float kStartMedium = 0.5f;
  static constexpr float kImmediateLead = 0.1f;
  static constexpr float kMediumLead = 0.2f;
  static constexpr float kLongSlack = 0.15f;
  static constexpr float kListedMedium = 0.2f;
  static constexpr size_t kMaxListed = 4;
  static constexpr int kLevelStep = 10;
  static constexpr media::Micros kMinInterval = 250'000;
  static constexpr media::Micros kRemoteStale = 1'000'000;
  static constexpr size_t kMaxRecorded = 4096;  // closed bins kept for a relay that does not take them

  // One closed bin: the share of packets that were speech (0..255 = 0..1) and their mean level in dBov.
  struct BinSummary {
    uint8_t activity = 0;
    uint8_t level_dbov = 127;
    bool operator==(const BinSummary&) const = default;
  };

  // A peer's audio track starts (local: fed by on_level; remote: fed by push_bin). Slots are per peer and
  // counted per track: a second audio track of the same peer shares its slot.
  Slot add_source(const std::string& peer, bool remote = false);
  void remove_source(Slot slot);

  // The hot path: one packet's level (0..127 dBov).
  void on_level(Slot slot, uint8_t level_dbov) {
    Bin& b = peers_[slot].current;
    b.loudness += 127u - level_dbov;
    b.packets += 1;
    b.active += level_dbov <= kActiveLevel ? 1u : 0u;
  }

  // A bin of a remote peer, as its node closed it.
  void push_bin(Slot slot, media::Micros now, BinSummary bin);

  // Closes the bins that ended by `now` and decides. True when speakers() changed and may be sent now.
  bool on_tick(media::Micros now);

  const ActiveSpeakers& speakers() const { return offered_; }
  // For a relay: once on, every bin a local slot closes is kept until take_closed() (peer, bin).
  void record_closed(bool on) { record_ = on; }
  std::vector<std::pair<std::string, BinSummary>> take_closed();
  bool empty() const { return by_peer_.empty(); }

 private:
  struct Bin {
    uint32_t loudness = 0;  // sum of (127 - dBov)
    uint32_t packets = 0;
    uint32_t active = 0;
  };
  struct Scores {
    float immediate = 0, medium = 0, longer = 0;
    uint8_t level_dbov = 127;
  };
  struct Peer {
    std::string name;
    int refs = 0;  // 0: a free slot
    bool remote = false;
    media::Micros last_push = 0;
    Bin current;
    std::array<BinSummary, kLongBins> history{};  // a ring; head_ is the next to write
    size_t head = 0;
  };

  void close_bins(media::Micros now);
  static void push(Peer& p, BinSummary b);
  static Scores score(const Peer& p);
  void decide();

  std::vector<Peer> peers_;
  std::vector<Slot> free_;
  std::unordered_map<std::string, Slot> by_peer_;
  std::vector<std::pair<std::string, BinSummary>> closed_;
  bool record_ = false;
  bool started_ = false;
  media::Micros bin_end_ = 0;
  media::Micros last_offer_ = 0;
  bool have_offered_ = false;
  int dominant_ = -1;
  ActiveSpeakers list_;     // the latest decision
  ActiveSpeakers offered_;  // the latest one on_tick offered
};

}  // namespace atrium::core
