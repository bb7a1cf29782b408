#include "server/http/responder.h"

namespace atrium::server {

Responder::Responder(std::function<void(HttpResponse)> deliver)
    : state_(std::make_shared<State>(std::move(deliver))) {}

void Responder::operator()(HttpResponse response) const {
  if (state_->answered.exchange(true, std::memory_order_acq_rel)) return;
  state_->deliver(std::move(response));
}

Responder::State::~State() {
  if (answered.load(std::memory_order_acquire) || !deliver) return;
  try {
    deliver(HttpResponse::text(500, "the request was dropped without an answer\n"));
  } catch (...) {
    // A destructor must not throw; the connection then ends with its handler timeout.
  }
}

}  // namespace atrium::server
