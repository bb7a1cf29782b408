// Sessions that were created but have not connected yet (ICE and DTLS not done), counted per client address
// and in total. Such a session costs memory and a slot at once while costing its client one HTTP request, and
// it lives until the connect timeout reaps it (~31 s); without a cap of their own a single client could fill
// the host with them. The HTTP thread takes a slot before it hands an offer (or an SDK join) to a worker; the
// slot travels with the offer into the session, which drops it once connected, or gives it back by ending.
#pragma once

#include "server/address_quota.h"

namespace atrium::server {

using PendingSessions = AddressQuota;

}  // namespace atrium::server
