#include "transport/rtmp/rtmp_publisher.h"

#include <algorithm>
#include <cmath>

#include "core/util/overloaded.h"

namespace atrium::rtmp {
namespace {

RtmpSessionConfig session_config(uint64_t seed) {
  RtmpSessionConfig c;
  c.seed = seed;
  return c;
}

}  // namespace

RtmpPublisher::RtmpPublisher(uint64_t seed, media::Micros now) : session_(session_config(seed), now) {}

void RtmpPublisher::receive(media::Micros now, std::span<const uint8_t> bytes) {
  // The previous input's packets have reached the core and left it (the runtime drains the hub after each
  // input), so their storage is free again.
  store_used_ = 0;
  if (closed_) return;
  session_.receive(bytes, now);
  while (auto event = session_.poll_event()) {
    on_session_event(now, std::move(*event));
    if (closed_) break;
  }
}

std::optional<PublishTarget> RtmpPublisher::take_publish_request() {
  if (request_taken_ || !request_) return std::nullopt;
  request_taken_ = true;
  return std::move(request_);
}

void RtmpPublisher::admit(core::JoinParams join) {
  if (closed_ || admitted_) return;
  admitted_ = true;
  events_.push(core::tev::Join{std::move(join)});
}

void RtmpPublisher::refuse(PublishRejection how, const std::string& sentence) {
  if (closed_) return;
  session_.reject_publish(sentence, how);
  end(EndReason::kRuntime, sentence);
}

void RtmpPublisher::close(const std::string& why) {
  if (closed_) return;
  end(EndReason::kRuntime, why);
}

std::optional<core::TransportEvent> RtmpPublisher::pop_event() {
  return events_.pop();
}

std::optional<std::string> RtmpPublisher::pop_notice() {
  return notices_.pop();
}

void RtmpPublisher::on_session_event(media::Micros now, RtmpEvent&& event) {
  std::visit(core::Overloaded{
                 [&](PublishRequested& r) {
                   if (!request_taken_)
                     request_ = PublishTarget{std::move(r.app), std::move(r.stream_key), std::move(r.tc_url)};
                 },
                 [&](const MetadataReceived& m) {
                   if (m.width && m.height)
                     video_info_ = std::to_string(m.width) + "x" + std::to_string(m.height) + " " +
                                   (m.video_codec.empty() ? "video" : m.video_codec);
                   if (m.framerate > 0)
                     video_info_ += " " + std::to_string(static_cast<int>(std::lround(m.framerate))) + " fps";
                   if (!m.encoder.empty()) video_info_ += " (" + m.encoder + ")";
                   description_ = video_info_ + (audio_info_.empty() ? "" : " + " + audio_info_);
                 },
                 [&](const VideoConfigured& v) {
                   if (video_info_.empty()) video_info_ = "H264 " + v.profile_level_id;
                   description_ = video_info_ + (audio_info_.empty() ? "" : " + " + audio_info_);
                 },
                 [&](const VideoAccessUnit& au) { on_video(now, au); },
                 [&](const AudioConfigured& c) { on_audio_config(c); },
                 [&](const AudioFrame& f) { on_audio(now, f); },
                 [&](const UnsupportedMedia& u) { notices_.push(u.sentence); },
                 [&](const PublishEnded&) { end(EndReason::kUnpublished, "the client stopped publishing"); },
                 [&](const SessionFailed& f) {
                   end(f.sentence == kBFramesSentence ? EndReason::kBFrames : EndReason::kProtocol,
                       f.sentence);
                 },
             },
             event);
}

std::span<const uint8_t> RtmpPublisher::keep(std::span<const uint8_t> payload) {
  if (store_used_ == store_.size()) store_.emplace_back().reserve(1500);
  auto& slot = store_[store_used_++];
  slot.assign(payload.begin(), payload.end());
  return slot;
}

void RtmpPublisher::emit_media(core::RemoteTrackId track, const media::MediaPacket& packet) {
  events_.push(core::tev::RemoteMedia{track, packet});
}

void RtmpPublisher::on_video(media::Micros now, const VideoAccessUnit& au) {
  if (!joined_) return;  // the room is not ours yet; the next key frame starts the picture
  ++counters_.video_frames;
  for (const auto& p : session_.video_packets()) {
    media::MediaPacket mp;
    mp.codec = media::Codec::kH264;
    mp.seq = video_seq_++;
    mp.timestamp = au.rtp_timestamp;
    mp.marker = p.marker;
    mp.keyframe = p.keyframe;
    mp.arrival = now;
    mp.payload = keep(p.payload);
    emit_media(kVideoTrack, mp);
  }
}

void RtmpPublisher::on_audio_config(const AudioConfigured& c) {
  if (!audio_) audio_ = std::make_unique<media::audio::AacToOpus>();
  const auto status = audio_->configure(c.audio_specific_config);
  if (!status) {
    audio_refused_ = true;
    notices_.push(status.error() + "; the stream plays without audio");
    return;
  }
  audio_refused_ = false;
  const auto& asc = audio_->config();
  audio_info_ = "AAC " + std::to_string(asc.output_sample_rate()) + " Hz " +
                (asc.output_channels() == 1   ? "mono"
                 : asc.output_channels() == 2 ? "stereo"
                                              : std::to_string(asc.output_channels()) + " channels") +
                " -> Opus " + (audio_->channels() == 1 ? "mono" : "stereo");
  description_ = (video_info_.empty() ? "" : video_info_ + " + ") + audio_info_;
  if (joined_) publish_tracks();
}

void RtmpPublisher::on_audio(media::Micros now, const AudioFrame& f) {
  if (!joined_ || !audio_ || audio_refused_ || !audio_->configured()) return;
  ++counters_.audio_frames;
  const auto status = audio_->push(f.aac, f.timestamp_ms);
  if (!status) {
    ++counters_.audio_errors;
    if (!audio_error_noticed_) {
      audio_error_noticed_ = true;
      notices_.push(status.error() + " (later ones are only counted)");
    }
  }
  while (auto packet = audio_->pop()) {
    ++counters_.opus_packets;
    media::MediaPacket mp;
    mp.codec = media::Codec::kOpus;
    mp.seq = audio_seq_++;
    mp.timestamp = packet->rtp_timestamp;
    mp.keyframe = true;
    mp.audio_level = static_cast<int8_t>(packet->level);  // from the PCM: RTMP has no level extension
    mp.arrival = now;
    mp.payload = keep(packet->data);
    emit_media(kAudioTrack, mp);
  }
}

void RtmpPublisher::publish_tracks() {
  if (!joined_) return;
  if (!video_published_) {
    video_published_ = true;
    events_.push(core::tev::Publish{kVideoTrack, core::TrackInfo{"video", media::MediaKind::kVideo, {}, 1}});
  }
  if (!audio_published_ && audio_ && audio_->configured() && !audio_refused_) {
    audio_published_ = true;
    events_.push(core::tev::Publish{kAudioTrack, core::TrackInfo{"audio", media::MediaKind::kAudio, {}, 1}});
  }
}

void RtmpPublisher::on_endpoint_event(media::Micros, const core::EndpointEvent& event) {
  if (closed_) return;
  std::visit(core::Overloaded{
                 [&](const core::eev::Joined&) {
                   joined_ = true;
                   session_.accept_publish();
                   publish_tracks();
                 },
                 [&](const core::eev::ErrorEvent& e) {
                   if (joined_) return;  // a refused control after the join changes nothing here
                   const bool taken = e.error.code == core::ErrorCode::kPeerIdTaken;
                   const std::string sentence =
                       std::string(core::to_string(e.error.code)) + ": " + e.error.message;
                   session_.reject_publish(sentence,
                                           taken ? PublishRejection::kBadName : PublishRejection::kRejected);
                   end(taken ? EndReason::kPeerTaken : EndReason::kJoinFailed, sentence);
                 },
                 [&](const core::eev::RequestKeyFrame&) { ++counters_.keyframe_requests; },
                 [&](const auto&) {},
             },
             event);
}

void RtmpPublisher::end(EndReason reason, const std::string& why) {
  if (closed_) return;
  closed_ = true;
  end_reason_ = reason;
  close_reason_ = why;
}

}  // namespace atrium::rtmp
