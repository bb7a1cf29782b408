// Feeds arbitrary bytes to the RTP view, its extension walk and helpers, and every codec payload parser.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "media/codec/av1.h"
#include "media/codec/h264.h"
#include "media/codec/keyframe.h"
#include "media/codec/vp8.h"
#include "media/codec/vp9.h"
#include "media/demux.h"
#include "media/rtp/rtp_extensions.h"
#include "media/rtp/rtp_packet.h"
#include "media/rtp/seq.h"

using namespace atrium::media;

namespace {

volatile uint64_t g_sink = 0;

void sink(uint64_t v) {
  g_sink = g_sink + v;
}

void codecs(std::span<const uint8_t> payload) {
  for (Codec c : {Codec::kUnknown, Codec::kOpus, Codec::kVP8, Codec::kVP9, Codec::kH264, Codec::kAV1}) {
    sink(is_keyframe(c, payload));
    const LayerInfo l = layer_info(c, payload);
    sink(l.spatial + l.temporal);
  }
  if (auto d = parse_vp8_descriptor(payload)) {
    if (d->size >= payload.size()) __builtin_trap();
    sink(d->picture_id + d->tl0_pic_idx + d->tid + d->key_idx);
  }
  if (auto d = parse_vp9_descriptor(payload)) {
    if (d->size >= payload.size() || d->num_ref_pics > 3 || d->num_spatial_layers > 8) __builtin_trap();
    sink(d->picture_id + d->spatial_id + d->temporal_id + d->width[d->num_spatial_layers & 7]);
  }
  if (auto h = inspect_h264(payload)) sink(h->keyframe());
  if (auto a = av1_first_obu_layer(payload)) sink(a->spatial_id);

  // In-place rewrites on a copy must keep the descriptors parseable and everything else intact.
  std::vector<uint8_t> copy(payload.begin(), payload.end());
  if (vp8_rewrite_descriptor(copy, uint16_t{0x1234}, uint8_t{0x56})) {
    auto d = parse_vp8_descriptor(copy);
    if (!d || d->tl0_pic_idx != 0x56) __builtin_trap();
    if (std::memcmp(copy.data() + d->size, payload.data() + d->size, payload.size() - d->size) != 0)
      __builtin_trap();
  }
  copy.assign(payload.begin(), payload.end());
  // The transport's form: negative leaves a field alone, the id keeps the descriptor's width.
  const PictureInfo before = picture_info(Codec::kVP8, payload);
  if (vp8_rewrite_descriptor(copy, int32_t{0x7F5A}, int16_t{-1})) {
    auto d = parse_vp8_descriptor(copy);
    const PictureInfo after = picture_info(Codec::kVP8, copy);
    if (!d || after.tl0_pic_idx != before.tl0_pic_idx || after.layer_sync != before.layer_sync)
      __builtin_trap();
    if (d->has_picture_id && d->picture_id != (d->picture_id_15bit ? 0x7F5A : 0x5A)) __builtin_trap();
  }
  copy.assign(payload.begin(), payload.end());
  if (vp9_rewrite_descriptor(copy, uint16_t{0x4321}, std::nullopt)) {
    auto d = parse_vp9_descriptor(copy);
    if (!d || (d->picture_id_15bit && d->picture_id != 0x4321)) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  sink(static_cast<uint64_t>(classify_packet(in)));
  codecs(in);

  auto p = RtpPacket::parse(in);
  if (!p) return 0;
  if (p->header_size() + p->payload().size() + p->padding_size() != size) __builtin_trap();
  sink(p->marker() + p->payload_type() + p->sequence_number() + p->timestamp() + p->ssrc());
  for (size_t i = 0; i < p->csrc_count(); ++i)
    sink(p->csrc(i));
  sink(p->extension_profile() + static_cast<uint64_t>(p->extension_form()));

  auto it = p->extensions();
  while (auto e = it.next()) {
    if (e->data.data() < data || e->data.data() + e->data.size() > data + size) __builtin_trap();
    sink(e->id + e->data.size());
  }
  for (unsigned id = 0; id < 256; ++id) {
    auto v = p->find_extension(static_cast<uint8_t>(id));
    sink(v.size() + p->has_extension_id(static_cast<uint8_t>(id)));
    if (auto t = read_transport_seq(v)) sink(*t);
    if (auto a = read_audio_level(v)) sink(a->level);
    if (auto s = read_sdes_string(v)) sink(s->size());
  }
  codecs(p->payload());

  // Setters and the extension writer on a copy.
  std::vector<uint8_t> copy(in.begin(), in.end());
  if (!rtp_set_sequence_number(copy, 1) || !rtp_set_timestamp(copy, 2) || !rtp_set_ssrc(copy, 3) ||
      !rtp_set_payload_type(copy, 4) || !rtp_set_marker(copy, true))
    __builtin_trap();
  auto q = RtpPacket::parse(copy);
  if (!q || q->sequence_number() != 1 || q->payload_type() != 4 || !q->marker() ||
      q->payload().size() != p->payload().size())
    __builtin_trap();
  auto m = rtp_find_extension_mut(copy, 3);
  if (!m.empty()) m[0] ^= 0xFF;

  // Re-write the header with the packet's own extensions (when they fit the writer's limits) and parse it
  // back.
  std::array<RtpExtension, 16> ext{};
  size_t n = 0;
  auto it2 = p->extensions();
  while (auto e = it2.next()) {
    if (n == ext.size()) break;
    ext[n++] = RtpExtension{e->id, e->data};
  }
  std::array<uint8_t, 2048> out{};
  const RtpHeaderFields f{p->marker(),    p->payload_type(), p->sequence_number(),
                          p->timestamp(), p->ssrc(),         {}};
  const size_t w = write_rtp_header(out, f, std::span(ext).first(n));
  if (w != 0) {
    auto r = RtpPacket::parse(std::span(out).first(w));
    if (!r || r->sequence_number() != p->sequence_number() || r->ssrc() != p->ssrc()) __builtin_trap();
    for (size_t i = 0; i < n; ++i) {
      // The first element with this id must come back with the same bytes.
      auto orig = p->find_extension(ext[i].id);
      auto back = r->find_extension(ext[i].id);
      if (orig.size() != back.size() || !std::equal(orig.begin(), orig.end(), back.begin())) __builtin_trap();
    }
  }

  SeqUnwrapper u;
  sink(static_cast<uint64_t>(u.unwrap(p->sequence_number())));
  sink(seq_newer(p->sequence_number(), static_cast<uint16_t>(size)));
  return 0;
}
