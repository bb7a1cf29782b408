// The media side of SIP calls on one worker (the room's, like WHIP): per call, its RTP socket and its
// SipMediaSession, whose endpoint this worker owns in the hub. Signalling lives on worker 0 (SipSignaling);
// the two talk only by posting to each other's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/ip/udp.hpp>

#include "server/worker.h"
#include "server/worker_core.h"
#include "transport/sip/sip_media_session.h"
#include "transport/sip/sip_user_agent.h"

namespace atrium::server {

struct SipCounters;

// What the call's worker tells signalling: joined (answer the call) or refused (reject it with a status).
struct SipCallOutcome {
  sip::CallHandle call = 0;
  bool joined = false;
  int status = 0;  // when refused
  std::string reason;
};

class SipCallWorker final : public EndpointOwner {
 public:
  SipCallWorker(Worker& worker, WorkerCore& core, SipCounters& counters);
  ~SipCallWorker() override;

  // On this worker's thread. `rtp_fd`: a bound UDP socket (released by signalling). `done` is called once,
  // here, when the core has said whether the caller joined.
  void start_call(sip::CallHandle call, int rtp_fd, const sip::NegotiatedAudio& audio, core::JoinParams join,
                  std::string description, std::function<void(SipCallOutcome)> done);
  void update_call(sip::CallHandle call, const sip::NegotiatedAudio& audio);
  void end_call(sip::CallHandle call, const std::string& why);

  void on_endpoint_event(int64_t now, core::EndpointId id, const core::EndpointEvent& event) override;

 private:
  struct Call;
  void receive(Call& c);
  void flush(int64_t now, Call& c);
  void finish_join(Call& c);

  Worker& worker_;
  WorkerCore& core_;
  SipCounters& counters_;
  std::unordered_map<sip::CallHandle, std::unique_ptr<Call>> calls_;
  std::unordered_map<core::EndpointId, Call*> by_endpoint_;
  uint64_t seed_;
};

}  // namespace atrium::server
