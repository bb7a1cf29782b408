// What a worker's UDP runtime needs from a client session, whatever its signalling: WHIP/WHEP (WebRtcSession)
// and the room SDK (SdkSession, which owns a WebRtcSession it can replace) both fit. The runtime feeds
// datagrams and endpoint events in, drains core events into the hub and datagrams to the socket.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/events/endpoint_event.h"
#include "core/events/transport_event.h"
#include "media/media_packet.h"
#include "transport/webrtc/net/socket_address.h"
#include "transport/webrtc/session/datagram_queue.h"

namespace atrium::webrtc {

class UdpSession {
 public:
  virtual ~UdpSession() = default;

  virtual void on_datagram(media::Micros now, const SocketAddress& from, std::span<uint8_t> data) = 0;
  virtual void on_endpoint_event(media::Micros now, const core::EndpointEvent& event) = 0;
  virtual void on_tick(media::Micros now) = 0;
  virtual void close(media::Micros now, std::string reason) = 0;

  virtual std::optional<core::TransportEvent> pop_event() = 0;
  virtual DatagramQueue& datagrams() = 0;
  // Every address that passed an ICE check, in the order they did (only ever grows).
  virtual const std::vector<SocketAddress>& validated_addresses() const = 0;
  // The ICE ufrag checks must carry now (changes on ICE restart or when the SDK replaces its connection).
  virtual const std::string& ice_ufrag() const = 0;
  virtual bool closed() const = 0;
  // ICE and DTLS are done (SRTP keys in place): the runtime stops counting it as a pending session.
  virtual bool media_connected() const = 0;
  // When media connected (the `now` of the DTLS datagram that put the SRTP keys in place), and when the first
  // video RTP packet left after that: the runtime's time-to-first-video histogram is the difference. Unset
  // until then; a session that sends no video never sets the second.
  virtual std::optional<media::Micros> connected_at() const = 0;
  virtual std::optional<media::Micros> first_video_sent() const = 0;
  virtual const std::string& close_reason() const = 0;
  // The address the client nominated and the PRIORITY of that check (none before nomination).
  virtual std::optional<SocketAddress> nominated_address() const = 0;
  virtual std::optional<uint32_t> nominated_priority() const = 0;
  // For the runtime's metrics: the session's counters so far (see WebRtcSessionStats).
  virtual struct WebRtcSessionStats counters() const = 0;
};

}  // namespace atrium::webrtc
