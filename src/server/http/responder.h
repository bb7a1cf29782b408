// The way an HTTP handler answers, now or later, from any thread: the WHIP handler posts its work to a media
// worker and answers from there. Copies share one answer; the first call wins and later ones are ignored. If
// every copy is dropped unanswered (a bug, or a worker shutting down), the client gets 500 instead of a hang.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "server/http/http_message.h"

namespace atrium::server {

class Responder {
 public:
  // `deliver` carries the response to the connection; it is called at most once, on the thread that answers.
  explicit Responder(std::function<void(HttpResponse)> deliver);

  void operator()(HttpResponse response) const;
  bool answered() const { return state_->answered.load(std::memory_order_acquire); }

 private:
  struct State {
    explicit State(std::function<void(HttpResponse)> fn) : deliver(std::move(fn)) {}
    ~State();
    std::function<void(HttpResponse)> deliver;
    std::atomic<bool> answered{false};
  };
  std::shared_ptr<State> state_;
};

}  // namespace atrium::server
