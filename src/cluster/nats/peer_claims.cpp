#include "cluster/nats/peer_claims.h"

#include <span>

#include "cluster/nats/key_codec.h"
#include "cluster/nats/nats_handles.h"
#include "cluster/nats/wire_format.h"

namespace atrium::cluster::nats {

namespace {

std::optional<std::vector<std::string>> fields_of(kvEntry* e) {
  return decode_fields(
      std::span(static_cast<const uint8_t*>(kvEntry_Value(e)), static_cast<size_t>(kvEntry_ValueLen(e))));
}

}  // namespace

ClaimResult KvPeerClaims::claim(const std::string& key, const std::string& value) {
  kvStore* kv = buckets_.rooms;
  if (!kv || !buckets_.nodes) return ClaimResult::kUnavailable;
  // Peer ids are unique per room across the cluster: the KV create succeeds for exactly one node.
  const int len = static_cast<int>(value.size());
  if (kvStore_Create(nullptr, kv, key.c_str(), value.data(), len) == NATS_OK) return ClaimResult::kClaimed;
  kvEntry* raw = nullptr;
  const natsStatus s = kvStore_Get(&raw, kv, key.c_str());
  KvEntryPtr entry(raw);
  if (s == NATS_NOT_FOUND)  // deleted in between: one more try
    return kvStore_Create(nullptr, kv, key.c_str(), value.data(), len) == NATS_OK ? ClaimResult::kClaimed
                                                                                  : ClaimResult::kUnavailable;
  if (s != NATS_OK) return ClaimResult::kUnavailable;
  // The id is held. If its owner is dead (crashed where no survivor hosted the room), the entry is stale and
  // this join replaces it, guarded by its revision so two nodes cannot both win.
  auto fields = fields_of(raw);
  if (fields && !fields->empty() && owner_alive((*fields)[0])) return ClaimResult::kTaken;
  return kvStore_Update(nullptr, kv, key.c_str(), value.data(), len, kvEntry_Revision(raw)) == NATS_OK
             ? ClaimResult::kClaimed
             : ClaimResult::kTaken;
}

bool KvPeerClaims::owner_alive(const std::string& owner) {
  if (owner == owner_) return false;  // ours but not held by any local endpoint: left over
  kvEntry* raw = nullptr;
  const natsStatus s = kvStore_Get(&raw, buckets_.nodes, node_key(owner).c_str());
  KvEntryPtr entry(raw);
  return s != NATS_NOT_FOUND;  // the heartbeat bucket forgets an owner node_ttl after its last beat
}

bool KvPeerClaims::release(const std::string& key) {
  kvStore* kv = buckets_.rooms;
  if (!kv) return false;
  kvEntry* raw = nullptr;
  const natsStatus s = kvStore_Get(&raw, kv, key.c_str());
  KvEntryPtr entry(raw);
  if (s == NATS_NOT_FOUND) return true;
  if (s != NATS_OK) return false;
  auto fields = fields_of(raw);
  // Jobs run in order, so no later claim of this bus can be in between; another bus cannot take a key
  // whose owner is alive.
  if (!fields || fields->empty() || (*fields)[0] != owner_) return true;
  return kvStore_Delete(kv, key.c_str()) == NATS_OK;
}

}  // namespace atrium::cluster::nats
