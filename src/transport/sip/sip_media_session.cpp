#include "transport/sip/sip_media_session.h"

#include "core/util/overloaded.h"
#include "media/audio/audio_level.h"
#include "media/mixer/g711.h"
#include "media/rtp/rtp_packet.h"

namespace atrium::sip {
namespace {

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr media::Micros kSsrcTimeout = 2000000;  // a new SSRC is taken after 2 s of silence from the old one

}  // namespace

SipMediaSession::SipMediaSession(const NegotiatedAudio& audio, core::JoinParams join, uint64_t seed)
    : audio_(audio), join_(std::move(join)) {
  const uint64_t r = mix64(seed + 0x9E3779B97F4A7C15ull);
  ssrc_out_ = static_cast<uint32_t>(r);
  seq_offset_ = static_cast<uint16_t>(r >> 32);
  ts_offset_ = static_cast<uint32_t>(mix64(r));
  if (audio_.codec == media::Codec::kOpus) {
    (void)decoder_.configure(1);
  } else {
    (void)encoder_.configure(1, 0, 8000);
    (void)encoder_.set_complexity(5);
  }
}

void SipMediaSession::start() {
  events_.push(core::tev::Join{join_});
}

void SipMediaSession::update(const NegotiatedAudio& audio) {
  audio_.direction = audio.direction;
  audio_.remote_address = audio.remote_address;
  audio_.remote_port = audio.remote_port;
}

void SipMediaSession::receive_rtp(media::Micros now, std::span<const uint8_t> packet) {
  opus_used_ = 0;
  rtp_head_ = rtp_count_ = 0;
  auto rtp = media::RtpPacket::parse(packet);
  if (!rtp) {
    ++counters_.malformed;
    return;
  }
  ++counters_.rtp_in;
  if (!ssrc_in_ || (*ssrc_in_ != rtp->ssrc() && now - ssrc_seen_ > kSsrcTimeout)) {
    ssrc_in_ = rtp->ssrc();
    fill_ = 0;
  } else if (*ssrc_in_ != rtp->ssrc()) {
    ++counters_.wrong_ssrc;
    return;
  }
  ssrc_seen_ = now;
  if (audio_.dtmf_pt && rtp->payload_type() == *audio_.dtmf_pt)
    return on_dtmf(rtp->timestamp(), rtp->payload());
  if (rtp->payload_type() != audio_.pt) {
    ++counters_.unknown_pt;  // e.g. comfort noise (13), which we did not offer
    return;
  }
  if (!joined_ || audio_.direction == Direction::kInactive || audio_.direction == Direction::kSendOnly)
    return;
  on_voice(now, rtp->timestamp(), rtp->payload());
}

void SipMediaSession::on_voice(media::Micros now, uint32_t rtp_ts, std::span<const uint8_t> payload) {
  if (audio_.codec != media::Codec::kOpus) return on_g711(now, rtp_ts, payload);
  // Opus as it came; decoded only for its level.
  int8_t level = -1;
  auto n = decoder_.decode(payload, decoded_);
  if (n.ok()) {
    level = static_cast<int8_t>(media::audio::dbov_level(std::span<const float>(decoded_.data(), n.value())));
  } else {
    ++counters_.codec_errors;
  }
  emit(now, rtp_ts, payload, level);
}

void SipMediaSession::on_g711(media::Micros now, uint32_t rtp_ts, std::span<const uint8_t> payload) {
  // 20 ms frames cut from whatever ptime the phone sends; a jump in its timestamps drops the partial frame.
  if (fill_ != 0 && rtp_ts != frame_ts_ + fill_) {
    ++counters_.discontinuities;
    fill_ = 0;
  }
  size_t pos = 0;
  while (pos < payload.size()) {
    if (fill_ == 0) frame_ts_ = rtp_ts + static_cast<uint32_t>(pos);
    const size_t take = std::min(frame_.size() - fill_, payload.size() - pos);
    const auto in = payload.subspan(pos, take);
    const auto out = std::span<float>(frame_.data() + fill_, take);
    if (audio_.codec == media::Codec::kPcmu) {
      media::mixer::decode_ulaw(in, out);
    } else {
      media::mixer::decode_alaw(in, out);
    }
    fill_ += take;
    pos += take;
    if (fill_ < frame_.size()) break;
    fill_ = 0;
    if (opus_used_ >= opus_.size()) {
      ++counters_.codec_errors;  // more than kMaxFramesPerPacket in one packet
      continue;
    }
    auto& buf = opus_[opus_used_];
    auto n = encoder_.encode(frame_, buf);
    if (!n.ok()) {
      ++counters_.codec_errors;
      continue;
    }
    ++opus_used_;
    ++counters_.transcoded;
    const auto level = static_cast<int8_t>(media::audio::dbov_level(frame_));
    // 8 kHz -> 48 kHz RTP clock: x6 stays continuous across the 32-bit wrap (modular arithmetic).
    emit(now, frame_ts_ * 6u, std::span<const uint8_t>(buf.data(), n.value()), level);
  }
}

void SipMediaSession::emit(media::Micros now, uint32_t ts48, std::span<const uint8_t> opus, int8_t level) {
  media::MediaPacket p;
  p.codec = media::Codec::kOpus;
  p.seq = seq_in_++;
  p.timestamp = ts48;
  p.keyframe = true;
  p.audio_level = level;
  p.arrival = now;
  p.payload = opus;
  events_.push(core::tev::RemoteMedia{kAudioTrack, p});
}

void SipMediaSession::on_dtmf(uint32_t rtp_ts, std::span<const uint8_t> payload) {
  // RFC 4733 §2.3: event, E|R|volume, duration. One event's packets share a timestamp; the first one we see
  // is the press (the end packets repeat it three times).
  if (payload.size() < 4) {
    ++counters_.malformed;
    return;
  }
  if (last_dtmf_ts_ && *last_dtmf_ts_ == rtp_ts) return;
  last_dtmf_ts_ = rtp_ts;
  const uint8_t event = payload[0];
  static constexpr char kDigits[] = "0123456789*#ABCD";
  if (event > 15) return;  // not a DTMF event (flash, tones)
  ++counters_.dtmf_digits;
  digits_.push(kDigits[event]);
}

void SipMediaSession::on_endpoint_event(media::Micros, const core::EndpointEvent& event) {
  std::visit(core::Overloaded{
                 [&](const core::eev::Joined&) {
                   if (joined_) return;
                   joined_ = true;
                   core::TrackInfo info;
                   info.name = "audio";
                   info.kind = media::MediaKind::kAudio;
                   info.meta = R"({"source":"sip"})";
                   events_.push(core::tev::Publish{kAudioTrack, info});
                   events_.push(core::tev::AttachMix{kMixTrack, audio_.codec});
                 },
                 [&](const core::eev::ErrorEvent& e) {
                   if (!joined_ && !join_error_) join_error_ = e.error;
                 },
                 [&](const core::eev::LocalMedia& m) {
                   if (m.id == kMixTrack) send_mix(m.packet);
                 },
                 [&](const auto&) {},
             },
             event);
}

void SipMediaSession::send_mix(const media::MediaPacket& p) {
  if (audio_.direction == Direction::kInactive || audio_.direction == Direction::kRecvOnly) return;
  if (rtp_count_ == rtp_out_.size()) return;  // the runtime polls after every event; cannot happen
  const size_t slot = (rtp_head_ + rtp_count_) % rtp_out_.size();
  auto& buf = rtp_out_[slot];
  media::RtpHeaderFields h;
  h.marker = first_out_;  // the start of a talk spurt (RFC 3551 §4.1)
  h.payload_type = audio_.pt;
  h.sequence_number = static_cast<uint16_t>(p.seq + seq_offset_);
  h.timestamp = p.timestamp + ts_offset_;
  h.ssrc = ssrc_out_;
  const size_t header = media::write_rtp_header(buf, h);
  if (header == 0 || header + p.payload.size() > buf.size()) return;
  std::copy(p.payload.begin(), p.payload.end(), buf.begin() + static_cast<std::ptrdiff_t>(header));
  rtp_len_[slot] = header + p.payload.size();
  ++rtp_count_;
  first_out_ = false;
  ++counters_.rtp_out;
}

std::optional<std::span<const uint8_t>> SipMediaSession::pop_rtp() {
  if (rtp_count_ == 0) return std::nullopt;
  const size_t slot = rtp_head_;
  rtp_head_ = (rtp_head_ + 1) % rtp_out_.size();
  --rtp_count_;
  return std::span<const uint8_t>(rtp_out_[slot].data(), rtp_len_[slot]);
}

}  // namespace atrium::sip
