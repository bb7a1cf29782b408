// Who holds a peer id in the whole cluster: the JetStream KV bucket decides, through blocking requests that
// only the RequestThread makes. An interface so that tests can put a slow directory in front of the real one
// and show that the worker does not wait for it.
#pragma once

#include <string>

#include <nats/nats.h>

namespace atrium::cluster::nats {

enum class ClaimResult { kClaimed, kTaken, kUnavailable };

class PeerClaims {
 public:
  virtual ~PeerClaims() = default;
  // Makes `key` this bus's with `value` (the owner and the peer's meta), unless a live owner holds it.
  virtual ClaimResult claim(const std::string& key, const std::string& value) = 0;
  // Deletes `key` if this bus holds it: a claim whose join was withdrawn, timed out or went unanswered. True
  // once that is settled (deleted, absent, or another owner's); false if NATS did not answer.
  virtual bool release(const std::string& key) = 0;
};

// The buckets a bus is bound to. Rebound after a reconnect; touched only on the RequestThread once the bus
// is open.
struct KvBuckets {
  kvStore* rooms = nullptr;
  kvStore* nodes = nullptr;
};

class KvPeerClaims final : public PeerClaims {
 public:
  KvPeerClaims(const KvBuckets& buckets, std::string owner) : buckets_(buckets), owner_(std::move(owner)) {}

  // Up to three requests on the rooms bucket (create; get; create again or a revision-checked update) and
  // one on the nodes bucket (is the holder alive?).
  ClaimResult claim(const std::string& key, const std::string& value) override;
  bool release(const std::string& key) override;

 private:
  bool owner_alive(const std::string& owner);

  const KvBuckets& buckets_;
  std::string owner_;
};

}  // namespace atrium::cluster::nats
