#include <gtest/gtest.h>

#include <vector>

#include "transport/rtmp/handshake.h"

namespace atrium::rtmp {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes c0c1() {
  Bytes b(1 + kHandshakeSize);
  b[0] = 3;
  for (size_t i = 1; i < b.size(); ++i)
    b[i] = static_cast<uint8_t>(i * 31);
  return b;
}

TEST(RtmpHandshake, AnswersS0S1S2ThenTakesC2) {
  ServerHandshake h(42);
  Bytes out;
  const Bytes in = c0c1();
  EXPECT_EQ(h.receive(std::span(in).first(100), out), 0u);  // waits for all of C1
  EXPECT_TRUE(out.empty());
  ASSERT_EQ(h.receive(in, out), in.size());
  ASSERT_EQ(out.size(), 1 + 2 * kHandshakeSize);
  EXPECT_EQ(out[0], 3);                                             // S0
  EXPECT_EQ(Bytes(out.begin() + 1, out.begin() + 9), Bytes(8, 0));  // S1 time + zero
  // S2 echoes C1.
  EXPECT_EQ(Bytes(out.begin() + 1 + kHandshakeSize, out.end()), Bytes(in.begin() + 1, in.end()));
  EXPECT_EQ(h.state(), ServerHandshake::State::kWaitingC2);

  const Bytes c2(kHandshakeSize + 10, 7);  // C2 and the first bytes of the chunk stream
  EXPECT_EQ(h.receive(std::span(c2).first(kHandshakeSize - 1), out), 0u);
  EXPECT_EQ(h.receive(c2, out), kHandshakeSize);
  EXPECT_TRUE(h.done());
  EXPECT_EQ(h.receive(c2, out), 0u);  // nothing more is taken
}

TEST(RtmpHandshake, S1IsDeterministicPerSeed) {
  const Bytes in = c0c1();
  Bytes a, b, c;
  ServerHandshake(1).receive(in, a);
  ServerHandshake(1).receive(in, b);
  ServerHandshake(2).receive(in, c);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // The random part is not all zero.
  EXPECT_NE(Bytes(a.begin() + 9, a.begin() + 1 + kHandshakeSize), Bytes(kHandshakeSize - 8, 0));
}

TEST(RtmpHandshake, RefusesOtherVersionsAtOnce) {
  for (uint8_t v : {uint8_t{0}, uint8_t{6}, uint8_t{0x47}, uint8_t{0xFF}}) {
    ServerHandshake h(1);
    Bytes out;
    const Bytes in = {v};
    EXPECT_EQ(h.receive(in, out), 0u);
    EXPECT_TRUE(h.failed()) << int{v};
    EXPECT_FALSE(h.error().empty());
    EXPECT_TRUE(out.empty());
  }
}

}  // namespace
}  // namespace atrium::rtmp
