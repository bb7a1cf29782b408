#include "transport/rtmp/rtmp_session.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "media/rtp/bytes.h"
#include "transport/rtmp/flv_tags.h"

namespace atrium::rtmp {

namespace bytes = media::bytes;

namespace {

constexpr uint32_t kMediaStreamId = 1;  // the one stream createStream hands out

std::string hex3(uint8_t a, uint8_t b, uint8_t c) {
  char buf[7];
  std::snprintf(buf, sizeof buf, "%02x%02x%02x", a, b, c);
  return buf;
}

std::string fourcc_text(uint32_t f) {
  std::string s;
  for (int i = 3; i >= 0; --i) {
    const char ch = static_cast<char>(f >> (8 * i));
    s.push_back(ch >= 0x20 && ch < 0x7F ? ch : '?');
  }
  return s;
}

// A codec named in onMetaData: FLV's numeric ids, or enhanced RTMP's FourCC strings as they are.
std::string codec_from_metadata(const Amf0Value* v, bool video) {
  if (!v) return {};
  if (v->is_string()) return v->string;
  if (!v->is_number() || !(v->number >= 0 && v->number < 256)) return {};
  const auto id = static_cast<uint8_t>(v->number);
  if (video) return id == kFlvCodecAvc ? "H264" : std::string(video_codec_name(id));
  return std::string(audio_format_name(id));
}

uint32_t metadata_u32(const Amf0Value& meta, std::string_view key) {
  const auto n = meta.get_number(key);
  if (!n || !(*n >= 0 && *n < 1e9)) return 0;
  return static_cast<uint32_t>(std::lround(*n));
}

}  // namespace

RtmpSession::RtmpSession(RtmpSessionConfig config, media::Micros now)
    : config_(config), created_(now), handshake_(config.seed), packetizer_(config.max_rtp_payload) {}

// ---- input ----

void RtmpSession::receive(std::span<const uint8_t> bytes, media::Micros now) {
  (void)now;  // nothing in the protocol reads the time of arrival; tick() does the timeouts
  counters_.bytes_in += bytes.size();
  if (closing()) return;
  if (in_pos_ > 0) {
    in_.erase(in_.begin(), in_.begin() + static_cast<ptrdiff_t>(in_pos_));
    in_pos_ = 0;
  }
  if (in_.size() + bytes.size() > kMaxBufferedInput) {
    ++counters_.protocol_errors;
    fail("RTMP: more unparsed input than the session holds (kMaxBufferedInput); the runtime stopped polling");
    return;
  }
  in_.insert(in_.end(), bytes.begin(), bytes.end());

  // Acknowledge the client's window (spec 5.4.3), counting every byte received.
  received_ += static_cast<uint32_t>(bytes.size());
  if (peer_window_ > 0 && received_ - acked_ >= peer_window_) {
    acked_ = received_;
    send_control32(MessageType::kAcknowledgement, received_);
    ++counters_.acks_sent;
  }
  process();
}

void RtmpSession::tick(media::Micros now) {
  if (closing() || ever_published_) return;
  if (now - created_ >= config_.setup_timeout) {
    fail("RTMP: no publish within " + std::to_string(config_.setup_timeout / 1'000'000) +
         " s of connecting (handshake, connect, createStream, publish)");
  }
}

std::optional<RtmpEvent> RtmpSession::poll_event() {
  if (!events_pending()) {
    events_.clear();
    head_ = 0;
    process();
    if (!events_pending()) return std::nullopt;
  }
  return std::move(events_[head_++]);
}

void RtmpSession::push(RtmpEvent e) {
  events_.push_back(std::move(e));
}

void RtmpSession::fail(std::string sentence) {
  if (closing()) return;
  state_ = State::kClosing;
  push(SessionFailed{std::move(sentence)});
}

void RtmpSession::process() {
  while (!events_pending() && !closing()) {
    const std::span<const uint8_t> in = std::span<const uint8_t>(in_).subspan(in_pos_);
    if (state_ == State::kHandshake) {
      const size_t before = out_.size();
      const size_t n = handshake_.receive(in, out_);
      counters_.bytes_out += out_.size() - before;
      if (handshake_.failed()) {
        ++counters_.protocol_errors;
        fail(std::string(handshake_.error()));
        return;
      }
      if (n == 0) return;
      in_pos_ += n;
      if (handshake_.done()) state_ = State::kConnecting;
      continue;
    }
    const ChunkReader::Result r = reader_.read(in);
    if (r == ChunkReader::Result::kNeedMore) return;
    if (r == ChunkReader::Result::kError) {
      ++counters_.protocol_errors;
      fail(std::string(reader_.error()));
      return;
    }
    in_pos_ += reader_.consumed();
    if (r == ChunkReader::Result::kMessage) on_message(reader_.message());
  }
}

void RtmpSession::on_message(const RtmpMessage& m) {
  ++counters_.messages_in;
  switch (static_cast<MessageType>(m.type)) {
    case MessageType::kSetChunkSize:  // applied by the reader
    case MessageType::kAbort:
    case MessageType::kAcknowledgement:   // we do not throttle on the client's acknowledgements
    case MessageType::kSetPeerBandwidth:  // we send little; nothing to limit
      return;
    case MessageType::kWindowAckSize:
      if (m.payload.size() >= 4) peer_window_ = std::max(bytes::read32(m.payload, 0), kMinPeerWindowAckSize);
      return;
    case MessageType::kUserControl:
      return on_user_control(m.payload);
    case MessageType::kVideo:
      return on_video(m);
    case MessageType::kAudio:
      return on_audio(m);
    case MessageType::kDataAmf0:
      return on_data(m.payload);
    case MessageType::kDataAmf3:  // AMF3 data messages start with a format byte, then AMF0 in practice
      if (!m.payload.empty()) on_data(m.payload.subspan(1));
      return;
    case MessageType::kCommandAmf0:
      return on_command(m, m.payload);
    case MessageType::kCommandAmf3:
      if (!m.payload.empty()) on_command(m, m.payload.subspan(1));
      return;
    case MessageType::kAggregate:
      ++counters_.unsupported_tags;  // no encoder we know publishes aggregates
      return;
    default:
      return;  // shared objects and unknown types: nothing to do for a publisher
  }
}

void RtmpSession::on_user_control(std::span<const uint8_t> body) {
  if (body.size() < 6) return;
  const auto event = static_cast<UserControlEvent>(bytes::read16(body, 0));
  if (event == UserControlEvent::kPingRequest) {
    send_user_control(UserControlEvent::kPingResponse, bytes::read32(body, 2));
    ++counters_.pings_answered;
  }
}

// ---- commands ----

void RtmpSession::on_command(const RtmpMessage& m, std::span<const uint8_t> body) {
  ++counters_.commands_in;
  Amf0Reader reader(body);
  std::vector<Amf0Value> v = reader.read_all();
  if (!reader.error().empty()) {
    ++counters_.protocol_errors;
    fail("RTMP command: " + std::string(reader.error()));
    return;
  }
  if (v.empty() || !v[0].is_string()) {
    ++counters_.unknown_commands;
    return;
  }
  const std::string& name = v[0].string;
  const double txn = v.size() > 1 && v[1].is_number() ? v[1].number : 0;
  // Arguments after the command object (v[2]).
  const std::vector<Amf0Value> args(v.size() > 3 ? v.begin() + 3 : v.end(), v.end());

  if (name == "connect") return on_connect(txn, v);
  if (state_ == State::kConnecting) {
    send_error(txn, "NetConnection.Call.Failed", "connect first");
    return;
  }
  if (name == "releaseStream") {
    if (txn > 0) {
      scratch_.clear();
      Amf0Writer w(scratch_);
      w.string("_result");
      w.number(txn);
      w.null();
      w.undefined();
      send_command(0);
    }
    return;
  }
  if (name == "FCPublish") {
    scratch_.clear();
    Amf0Writer w(scratch_);
    w.string("onFCPublish");
    w.number(0);
    w.null();
    w.object_begin();
    w.key("code");
    w.string("NetStream.Publish.Start");
    w.key("description");
    w.string(!args.empty() && args[0].is_string() ? args[0].string : std::string());
    w.object_end();
    send_command(0);
    return;
  }
  if (name == "createStream") {
    scratch_.clear();
    Amf0Writer w(scratch_);
    w.string("_result");
    w.number(txn);
    w.null();
    w.number(kMediaStreamId);
    send_command(0);
    return;
  }
  if (name == "publish") return on_publish(m, txn, args);
  if (name == "FCUnpublish" || name == "deleteStream" || name == "closeStream") return end_publish();
  if (name == "play" || name == "play2") {
    send_on_status(m.stream_id, "error", "NetStream.Play.Failed", kPlayRefusedSentence);
    return;
  }
  // Answers to our own calls (we make none) and status messages: nothing to say back.
  if (name == "_result" || name == "_error" || name == "onStatus") return;
  ++counters_.unknown_commands;
  if (txn > 0) send_error(txn, "NetConnection.Call.Failed", "unknown command " + name.substr(0, 64));
}

void RtmpSession::on_connect(double txn, const std::vector<Amf0Value>& v) {
  if (state_ != State::kConnecting) {
    send_error(txn, "NetConnection.Call.Failed", "already connected");
    return;
  }
  const Amf0Value* obj = v.size() > 2 && v[2].is_object_like() ? &v[2] : nullptr;
  if (obj) {
    app_ = std::string(obj->get_string("app").value_or(""));
    tc_url_ = std::string(obj->get_string("tcUrl").value_or(""));
  }
  while (!app_.empty() && app_.back() == '/')
    app_.pop_back();
  state_ = State::kConnected;

  send_control32(MessageType::kWindowAckSize, config_.window_ack_size);
  {
    uint8_t b[5];
    bytes::write32(b, 0, config_.peer_bandwidth);
    b[4] = 2;  // dynamic
    write_message(kControlChunkStream, MessageType::kSetPeerBandwidth, 0, b);
  }
  send_control32(MessageType::kSetChunkSize, config_.chunk_size);
  writer_.set_chunk_size(config_.chunk_size);

  scratch_.clear();
  Amf0Writer w(scratch_);
  w.string("_result");
  w.number(txn);
  w.object_begin();
  w.key("fmsVer");
  w.string("FMS/3,0,1,123");
  w.key("capabilities");
  w.number(31);
  w.object_end();
  w.object_begin();
  w.key("level");
  w.string("status");
  w.key("code");
  w.string("NetConnection.Connect.Success");
  w.key("description");
  w.string("Connection succeeded.");
  w.key("objectEncoding");
  w.number(0);
  w.object_end();
  send_command(0);
}

void RtmpSession::on_publish(const RtmpMessage& m, double txn, const std::vector<Amf0Value>& args) {
  (void)txn;  // publish is answered with onStatus, never _result
  const uint32_t stream_id = m.stream_id != 0 ? m.stream_id : kMediaStreamId;
  if (state_ == State::kPublishRequested || state_ == State::kPublishing) {
    send_on_status(stream_id, "error", "NetStream.Publish.BadName", "this connection already publishes");
    return;
  }
  std::string name = !args.empty() && args[0].is_string() ? args[0].string : std::string();
  std::string app = app_;
  // rtmp://HOST/live/ROOM/PEER: clients split it as app "live" + key "ROOM/PEER" or app "live/ROOM" + key
  // "PEER". Both become app "live", key "ROOM/PEER".
  if (const size_t slash = app.find('/'); slash != std::string::npos && !name.empty()) {
    name = app.substr(slash + 1) + "/" + name;
    app.resize(slash);
  }
  if (name.empty()) {
    send_on_status(stream_id, "error", "NetStream.Publish.BadName",
                   "the stream key is empty: publish to rtmp://HOST:1935/live/ROOM/PEER");
    ++counters_.protocol_errors;
    fail("RTMP publish: the stream key is empty (publish to rtmp://HOST:1935/live/ROOM/PEER)");
    return;
  }
  app_ = app;
  stream_key_ = name;
  publish_stream_id_ = stream_id;
  state_ = State::kPublishRequested;
  push(PublishRequested{app_, stream_key_, tc_url_});
}

void RtmpSession::accept_publish() {
  if (state_ != State::kPublishRequested) return;
  state_ = State::kPublishing;
  ever_published_ = true;
  send_user_control(UserControlEvent::kStreamBegin, publish_stream_id_);
  send_on_status(publish_stream_id_, "status", "NetStream.Publish.Start", "Publishing " + stream_key_ + ".");
}

void RtmpSession::reject_publish(std::string description, PublishRejection reason) {
  if (closing()) return;
  const char* code = reason == PublishRejection::kBadName           ? "NetStream.Publish.BadName"
                     : reason == PublishRejection::kConnectRejected ? "NetConnection.Connect.Rejected"
                                                                    : "NetStream.Publish.Rejected";
  send_on_status(publish_stream_id_, "error", code, description);
  state_ = State::kClosing;
}

void RtmpSession::end_publish() {
  if (state_ != State::kPublishRequested && state_ != State::kPublishing) return;
  state_ = State::kConnected;
  video_configured_ = false;
  audio_configured_ = false;
  push(PublishEnded{});
}

void RtmpSession::on_data(std::span<const uint8_t> body) {
  Amf0Reader reader(body);
  std::vector<Amf0Value> v = reader.read_all();
  size_t i = 0;
  if (i < v.size() && v[i].is_string() && v[i].string == "@setDataFrame") ++i;
  if (i >= v.size() || !v[i].is_string() || v[i].string != "onMetaData") return;
  ++i;
  if (i >= v.size() || !v[i].is_object_like()) return;
  if (state_ != State::kPublishRequested && state_ != State::kPublishing) return;
  const Amf0Value& meta = v[i];
  MetadataReceived e;
  e.width = metadata_u32(meta, "width");
  e.height = metadata_u32(meta, "height");
  if (auto f = meta.get_number("framerate"); f && std::isfinite(*f) && *f >= 0) e.framerate = *f;
  e.video_codec = codec_from_metadata(meta.get("videocodecid"), true);
  e.audio_codec = codec_from_metadata(meta.get("audiocodecid"), false);
  e.encoder = std::string(meta.get_string("encoder").value_or(""));
  push(std::move(e));
}

// ---- media ----

void RtmpSession::unsupported(media::MediaKind kind, std::string sentence) {
  ++counters_.unsupported_tags;
  bool& sent = kind == media::MediaKind::kVideo ? video_unsupported_sent_ : audio_unsupported_sent_;
  if (sent) return;
  sent = true;
  push(UnsupportedMedia{kind, std::move(sentence)});
}

void RtmpSession::on_video(const RtmpMessage& m) {
  ++counters_.video_tags;
  if (state_ != State::kPublishing) {
    ++counters_.dropped_tags;
    return;
  }
  const auto tag = parse_video_tag(m.payload);
  if (!tag) {
    ++counters_.dropped_tags;
    return;
  }
  if (tag->enhanced) {
    return unsupported(media::MediaKind::kVideo,
                       "RTMP video: enhanced RTMP (FourCC '" + fourcc_text(tag->fourcc) +
                           "') is not supported; send H264 in the classic FLV form");
  }
  if (tag->codec_id != kFlvCodecAvc) {
    return unsupported(
        media::MediaKind::kVideo,
        "RTMP video: " + std::string(video_codec_name(tag->codec_id)) + " is not supported; send H264");
  }
  if (tag->frame_type == kFlvFrameCommand) return;
  switch (static_cast<AvcPacketType>(tag->packet_type)) {
    case AvcPacketType::kSequenceHeader: {
      auto config = parse_avc_decoder_config(tag->data);
      if (!config || config->sps.empty() || config->pps.empty()) {
        ++counters_.dropped_tags;
        return;
      }
      const bool changed = !video_configured_ || !std::equal(tag->data.begin(), tag->data.end(),
                                                             avc_config_.begin(), avc_config_.end());
      packetizer_.set_parameter_sets(config->sps, config->pps);
      if (!packetizer_.has_parameter_sets()) {  // no NAL of type 7 or 8 in the record
        video_configured_ = false;
        ++counters_.dropped_tags;
        return;
      }
      avc_config_.assign(tag->data.begin(), tag->data.end());
      nal_length_size_ = config->nal_length_size;
      video_configured_ = true;
      if (changed) {
        const auto& sps = packetizer_.sps().front();
        push(VideoConfigured{sps.size() >= 4
                                 ? hex3(sps[1], sps[2], sps[3])
                                 : hex3(config->profile, config->profile_compatibility, config->level)});
      }
      return;
    }
    case AvcPacketType::kNalus: {
      if (tag->composition_time != 0) {
        send_on_status(publish_stream_id_, "error", "NetStream.Publish.Rejected", kBFramesSentence);
        fail(std::string(kBFramesSentence));
        return;
      }
      if (!video_configured_) {
        ++counters_.dropped_tags;
        return;
      }
      const size_t n = packetizer_.packetize(tag->data, nal_length_size_, m.timestamp);
      if (n == 0) {
        ++counters_.dropped_tags;
        return;
      }
      ++counters_.access_units;
      counters_.rtp_packets += n;
      push(VideoAccessUnit{packetizer_.rtp_timestamp(), packetizer_.keyframe()});
      return;
    }
    case AvcPacketType::kEndOfSequence:
      return;
  }
  ++counters_.dropped_tags;
}

void RtmpSession::on_audio(const RtmpMessage& m) {
  ++counters_.audio_tags;
  if (state_ != State::kPublishing) {
    ++counters_.dropped_tags;
    return;
  }
  const auto tag = parse_audio_tag(m.payload);
  if (!tag) {
    ++counters_.dropped_tags;
    return;
  }
  if (tag->sound_format != kFlvSoundAac) {
    return unsupported(media::MediaKind::kAudio,
                       "RTMP audio: " + std::string(audio_format_name(tag->sound_format)) +
                           " is not supported; send AAC (the video still plays)");
  }
  if (tag->aac_packet_type == 0) {
    audio_configured_ = true;
    push(AudioConfigured{std::vector<uint8_t>(tag->data.begin(), tag->data.end())});
    return;
  }
  if (tag->aac_packet_type != 1 || !audio_configured_ || tag->data.empty()) {
    ++counters_.dropped_tags;
    return;
  }
  ++counters_.audio_frames;
  push(AudioFrame{m.timestamp, tag->data});
}

// ---- output ----

std::span<const uint8_t> RtmpSession::pending_output() const {
  return std::span<const uint8_t>(out_).subspan(out_pos_);
}

void RtmpSession::consume_output(size_t n) {
  out_pos_ += std::min(n, out_.size() - out_pos_);
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  } else if (out_pos_ > 64 * 1024) {
    out_.erase(out_.begin(), out_.begin() + static_cast<ptrdiff_t>(out_pos_));
    out_pos_ = 0;
  }
}

void RtmpSession::write_message(uint32_t csid, MessageType type, uint32_t stream_id,
                                std::span<const uint8_t> payload) {
  const size_t before = out_.size();
  writer_.write(out_, csid, static_cast<uint8_t>(type), stream_id, 0, payload);
  counters_.bytes_out += out_.size() - before;
  ++counters_.messages_out;
}

void RtmpSession::send_control32(MessageType type, uint32_t value) {
  uint8_t b[4];
  bytes::write32(b, 0, value);
  write_message(kControlChunkStream, type, 0, b);
}

void RtmpSession::send_user_control(UserControlEvent event, uint32_t value) {
  uint8_t b[6];
  bytes::write16(b, 0, static_cast<uint16_t>(event));
  bytes::write32(b, 2, value);
  write_message(kControlChunkStream, MessageType::kUserControl, 0, b);
}

void RtmpSession::send_command(uint32_t stream_id) {
  write_message(kCommandChunkStream, MessageType::kCommandAmf0, stream_id, scratch_);
}

void RtmpSession::send_on_status(uint32_t stream_id, std::string_view level, std::string_view code,
                                 std::string_view description) {
  scratch_.clear();
  Amf0Writer w(scratch_);
  w.string("onStatus");
  w.number(0);
  w.null();
  w.object_begin();
  w.key("level");
  w.string(level);
  w.key("code");
  w.string(code);
  w.key("description");
  w.string(description);
  w.object_end();
  send_command(stream_id);
}

void RtmpSession::send_error(double txn, std::string_view code, std::string_view description) {
  if (!(txn > 0)) return;
  scratch_.clear();
  Amf0Writer w(scratch_);
  w.string("_error");
  w.number(txn);
  w.null();
  w.object_begin();
  w.key("level");
  w.string("error");
  w.key("code");
  w.string(code);
  w.key("description");
  w.string(description);
  w.object_end();
  send_command(0);
}

}  // namespace atrium::rtmp
