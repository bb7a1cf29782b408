// Owning handles for libnats objects, so every early return frees what it made.
#pragma once

#include <nats/nats.h>

#include <memory>

namespace atrium::cluster::nats {

struct NatsDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
  void operator()(natsConnection* c) const { natsConnection_Destroy(c); }
  void operator()(jsCtx* j) const { jsCtx_Destroy(j); }
  void operator()(kvStore* k) const { kvStore_Destroy(k); }
  void operator()(kvEntry* e) const { kvEntry_Destroy(e); }
  void operator()(jsMsgMetaData* m) const { jsMsgMetaData_Destroy(m); }
};

using MsgPtr = std::unique_ptr<natsMsg, NatsDeleter>;
using OptionsPtr = std::unique_ptr<natsOptions, NatsDeleter>;
using ConnectionPtr = std::unique_ptr<natsConnection, NatsDeleter>;
using JsPtr = std::unique_ptr<jsCtx, NatsDeleter>;
using KvPtr = std::unique_ptr<kvStore, NatsDeleter>;
using KvEntryPtr = std::unique_ptr<kvEntry, NatsDeleter>;
using MetaPtr = std::unique_ptr<jsMsgMetaData, NatsDeleter>;

}  // namespace atrium::cluster::nats
