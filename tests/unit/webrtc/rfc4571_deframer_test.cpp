// RFC 4571 deframing: frames split across reads and several in one read come out whole and in order, a
// length over the maximum is refused, and a half frame is reported as partial (what the runtime's pending
// timeout closes).
#include "transport/webrtc/tcp/rfc4571_deframer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace atrium::webrtc {
namespace {

using Status = Rfc4571Deframer::Status;

std::vector<uint8_t> framed(const std::vector<uint8_t>& datagram) {
  std::vector<uint8_t> out(2 + datagram.size());
  out[0] = static_cast<uint8_t>(datagram.size() >> 8);
  out[1] = static_cast<uint8_t>(datagram.size());
  std::copy(datagram.begin(), datagram.end(), out.begin() + 2);
  return out;
}

// Feeds `bytes` in reads of at most `chunk` and collects every frame.
std::vector<std::vector<uint8_t>> deframe(Rfc4571Deframer& d, const std::vector<uint8_t>& bytes, size_t chunk,
                                          Status* last = nullptr) {
  std::vector<std::vector<uint8_t>> frames;
  for (size_t at = 0; at < bytes.size();) {
    auto room = d.writable();
    const size_t n = std::min({chunk, room.size(), bytes.size() - at});
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(at), n, room.begin());
    d.commit(n);
    at += n;
    for (;;) {
      const auto s = d.next();
      if (last) *last = s;
      if (s != Status::kFrame) break;
      frames.emplace_back(d.frame().begin(), d.frame().end());
    }
    if (last && *last == Status::kTooLong) break;
  }
  return frames;
}

TEST(Rfc4571Deframer, FramesComeOutWholeWhateverTheReadSizes) {
  std::vector<std::vector<uint8_t>> sent;
  std::vector<uint8_t> stream;
  for (size_t i = 0; i < 200; ++i) {
    std::vector<uint8_t> datagram((i * 37) % Rfc4571Deframer::kMaxFrame + 1);
    for (size_t k = 0; k < datagram.size(); ++k)
      datagram[k] = static_cast<uint8_t>(i + k);
    const auto f = framed(datagram);
    stream.insert(stream.end(), f.begin(), f.end());
    sent.push_back(datagram);
  }
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{700}, size_t{1602}, size_t{65536}}) {
    Rfc4571Deframer d;
    EXPECT_EQ(deframe(d, stream, chunk), sent) << "reads of " << chunk;
    EXPECT_EQ(d.partial(), 0u);
  }
}

TEST(Rfc4571Deframer, ALengthOverTheMaximumIsRefused) {
  Rfc4571Deframer d;
  Status last = Status::kNeedMore;
  const auto frames = deframe(d, {0xFF, 0xFF}, 2, &last);  // 65535 with nothing behind it
  EXPECT_TRUE(frames.empty());
  EXPECT_EQ(last, Status::kTooLong);
}

TEST(Rfc4571Deframer, AFrameOfTheMaximumFits) {
  Rfc4571Deframer d;
  const auto frames = deframe(d, framed(std::vector<uint8_t>(Rfc4571Deframer::kMaxFrame, 7)), 100000);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].size(), Rfc4571Deframer::kMaxFrame);
}

TEST(Rfc4571Deframer, AHalfFrameIsPartialUntilItCompletes) {
  Rfc4571Deframer d;
  auto f = framed(std::vector<uint8_t>(100, 1));
  const std::vector<uint8_t> head(f.begin(), f.begin() + 50);
  EXPECT_TRUE(deframe(d, head, 1000).empty());
  EXPECT_EQ(d.partial(), 50u);
  const std::vector<uint8_t> rest(f.begin() + 50, f.end());
  EXPECT_EQ(deframe(d, rest, 1000).size(), 1u);
  EXPECT_EQ(d.partial(), 0u);
}

TEST(Rfc4571Deframer, AnEmptyFrameIsAFrameOfNothing) {
  Rfc4571Deframer d;
  const auto frames = deframe(d, {0, 0, 0, 1, 9}, 5);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].empty());
  EXPECT_EQ(frames[1], std::vector<uint8_t>{9});
}

}  // namespace
}  // namespace atrium::webrtc
