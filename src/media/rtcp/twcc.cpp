#include "media/rtcp/twcc.h"

#include <algorithm>

#include "media/rtp/bytes.h"

namespace atrium::media {

namespace {

constexpr size_t kTwccFixedSize = 8;  // after sender and media SSRC
constexpr size_t kMaxRun = 0x1FFF;

// How many symbols a chunk holds (a run's length, 14 or 7 for vectors), and the k-th symbol.
size_t chunk_capacity(uint16_t c) {
  if ((c & 0x8000) == 0) return c & 0x1FFF;
  return (c & 0x4000) ? 7 : 14;
}
unsigned chunk_symbol(uint16_t c, size_t k) {
  if ((c & 0x8000) == 0) return (c >> 13) & 0x3;
  if (c & 0x4000) return (c >> (12 - 2 * k)) & 0x3;
  return (c >> (13 - k)) & 0x1;
}
size_t delta_size(unsigned symbol) {
  return symbol == 1 ? 1 : symbol == 2 ? 2 : 0;
}

Micros floor_div(Micros a, Micros b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

}  // namespace

std::optional<TwccFeedbackView> TwccFeedbackView::parse(const RtcpHeader& h) {
  if (!h.is(RtcpType::kRtpfb) || h.fmt() != kRtpfbTwcc) return std::nullopt;
  if (h.body.size() < 8 + kTwccFixedSize) return std::nullopt;
  const auto b = h.body;
  TwccFeedbackView v;
  v.sender_ = bytes::read32(b, 0);
  v.media_ = bytes::read32(b, 4);
  v.base_seq_ = bytes::read16(b, 8);
  v.status_count_ = bytes::read16(b, 10);
  uint32_t ref = bytes::read24(b, 12);
  if (ref & 0x800000) ref |= 0xFF000000u;
  v.reference_time_ = static_cast<int32_t>(ref);
  v.fb_count_ = b[15];

  const auto rest = b.subspan(16);
  size_t pos = 0;
  size_t covered = 0;
  size_t delta_bytes = 0;
  size_t received = 0;
  while (covered < v.status_count_) {
    if (rest.size() - pos < 2) return std::nullopt;
    const uint16_t c = bytes::read16(rest, pos);
    pos += 2;
    const size_t n = std::min(chunk_capacity(c), v.status_count_ - covered);
    if ((c & 0x8000) == 0) {
      const unsigned s = chunk_symbol(c, 0);
      if (s == 3) return std::nullopt;
      delta_bytes += n * delta_size(s);
      if (s != 0) received += n;
    } else {
      for (size_t k = 0; k < n; ++k) {
        const unsigned s = chunk_symbol(c, k);
        if (s == 3) return std::nullopt;
        delta_bytes += delta_size(s);
        if (s != 0) ++received;
      }
    }
    covered += n;
  }
  if (rest.size() - pos < delta_bytes) return std::nullopt;
  v.chunks_ = rest.first(pos);
  v.deltas_ = rest.subspan(pos, delta_bytes);
  v.received_count_ = received;
  return v;
}

std::optional<TwccPacketStatus> TwccIterator::next() {
  if (emitted_ >= v_.status_count_) return std::nullopt;
  for (;;) {
    if (2 * chunk_ + 2 > v_.chunks_.size()) return std::nullopt;  // cannot happen after parse()
    const uint16_t c = bytes::read16(v_.chunks_, 2 * chunk_);
    if (in_chunk_ < chunk_capacity(c)) {
      const unsigned s = chunk_symbol(c, in_chunk_);
      ++in_chunk_;
      TwccPacketStatus st;
      st.seq = static_cast<uint16_t>(v_.base_seq_ + emitted_);
      ++emitted_;
      if (s == 1 || s == 2) {
        if (v_.deltas_.size() - delta_pos_ < delta_size(s))
          return std::nullopt;  // cannot happen after parse()
        const Micros ticks = s == 1 ? Micros{v_.deltas_[delta_pos_]}
                                    : Micros{static_cast<int16_t>(bytes::read16(v_.deltas_, delta_pos_))};
        delta_pos_ += delta_size(s);
        st.received = true;
        st.delta_us = ticks * kTwccDeltaUnitUs;
        time_us_ += st.delta_us;
        st.arrival_us = time_us_;
      }
      return st;
    }
    ++chunk_;
    in_chunk_ = 0;
  }
}

size_t write_twcc_feedback(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc,
                           uint8_t fb_count, std::span<const TwccReceived> received) {
  if (received.empty()) return 0;
  const uint16_t base = received[0].seq;
  size_t last_offset = 0;
  for (size_t i = 1; i < received.size(); ++i) {
    const size_t off = static_cast<uint16_t>(received[i].seq - base);
    if (off <= last_offset) return 0;
    last_offset = off;
  }
  if (last_offset >= 0xFFFF) return 0;
  const size_t count = last_offset + 1;

  // Everything below is recomputed on demand rather than stored, so building feedback never allocates.
  const Micros ref = floor_div(received[0].arrival_us, kTwccReferenceUnitUs);
  const Micros ref_ticks = ref * (kTwccReferenceUnitUs / kTwccDeltaUnitUs);
  auto delta_ticks = [&](size_t i) {
    const Micros prev = i == 0 ? ref_ticks : floor_div(received[i - 1].arrival_us, kTwccDeltaUnitUs);
    return floor_div(received[i].arrival_us, kTwccDeltaUnitUs) - prev;
  };

  // The status symbol of the i-th received packet: 1 small delta, 2 large or negative, 3 not encodable.
  auto symbol_of = [&](size_t i) -> unsigned {
    const Micros d = delta_ticks(i);
    if (d >= 0 && d <= 255) return 1;
    if (d >= -32768 && d <= 32767) return 2;
    return 3;  // not encodable
  };
  size_t delta_bytes = 0;
  for (size_t i = 0; i < received.size(); ++i) {
    const unsigned s = symbol_of(i);
    if (s == 3) return 0;
    delta_bytes += delta_size(s);
  }

  // The symbol at sequence offset k, via a cursor over `received`.
  size_t cursor = 0;
  auto sym_at = [&](size_t k) -> unsigned {
    auto offset = [&](size_t i) {
      return static_cast<size_t>(static_cast<uint16_t>(received[i].seq - base));
    };
    while (cursor > 0 && offset(cursor) > k)
      --cursor;
    while (cursor + 1 < received.size() && offset(cursor) < k)
      ++cursor;
    return offset(cursor) == k ? symbol_of(cursor) : 0;
  };

  // Chunk encoder: calls emit(chunk) for each chunk.
  auto encode = [&](auto&& emit) {
    size_t i = 0;
    while (i < count) {
      const unsigned s = sym_at(i);
      size_t run = 1;
      while (i + run < count && run < kMaxRun && sym_at(i + run) == s)
        ++run;
      if (run >= 14) {
        emit(static_cast<uint16_t>((s << 13) | run));
        i += run;
        continue;
      }
      const size_t n14 = std::min<size_t>(14, count - i);
      bool small = true;
      for (size_t k = 0; k < n14 && small; ++k)
        small = sym_at(i + k) <= 1;
      if (small) {
        uint16_t c = 0x8000;
        for (size_t k = 0; k < n14; ++k)
          c = static_cast<uint16_t>(c | (sym_at(i + k) << (13 - k)));
        emit(c);
        i += n14;
        continue;
      }
      if (run >= 7) {
        emit(static_cast<uint16_t>((s << 13) | run));
        i += run;
        continue;
      }
      const size_t n7 = std::min<size_t>(7, count - i);
      uint16_t c = 0xC000;
      for (size_t k = 0; k < n7; ++k)
        c = static_cast<uint16_t>(c | (sym_at(i + k) << (12 - 2 * k)));
      emit(c);
      i += n7;
    }
  };

  size_t chunks = 0;
  encode([&](uint16_t) { ++chunks; });
  const size_t unpadded = 12 + 8 + 2 * chunks + delta_bytes;
  const size_t size = (unpadded + 3) / 4 * 4;
  const size_t pad = size - unpadded;
  if (out.size() < size) return 0;
  if (!write_rtcp_header(out, kRtpfbTwcc, RtcpType::kRtpfb, size, pad != 0)) return 0;
  bytes::write32(out, 4, sender_ssrc);
  bytes::write32(out, 8, media_ssrc);
  bytes::write16(out, 12, base);
  bytes::write16(out, 14, static_cast<uint16_t>(count));
  bytes::write24(out, 16, static_cast<uint32_t>(ref) & 0xFFFFFF);
  out[19] = fb_count;
  size_t pos = 20;
  encode([&](uint16_t c) {
    bytes::write16(out, pos, c);
    pos += 2;
  });
  for (size_t i = 0; i < received.size(); ++i) {
    const Micros d = delta_ticks(i);
    if (symbol_of(i) == 1) {
      out[pos++] = static_cast<uint8_t>(d);
    } else {
      bytes::write16(out, pos, static_cast<uint16_t>(static_cast<int16_t>(d)));
      pos += 2;
    }
  }
  while (pos < size)
    out[pos++] = 0;
  if (pad != 0) out[size - 1] = static_cast<uint8_t>(pad);
  return size;
}

}  // namespace atrium::media
