#include "server/webrtc/send_path.h"

namespace atrium::server {

void SendPath::stage(UdpPort::Outbox& out) {
  auto& q = out.session->datagrams();
  while (out.batched < q.size()) {
    const auto d = q.at(out.batched);
    if (!d.to.tcp || !tcp_) {
      udp_.add(out);
      continue;
    }
    if (out.batched > 0) udp_.send_batch();  // pops this session's batched datagrams: `d` is at the front now
    tcp_->send(d.to, d.data);
    q.pop();
  }
  udp_.added(out);
}

}  // namespace atrium::server
