// Application messages between peers of a room: to everyone else, or to one peer; coded errors otherwise.
#include <gtest/gtest.h>

#include "core_harness.h"

namespace atrium::core {
namespace {
using testing::CoreHarness;

TEST(Messages, RoomMessagesReachEveryOtherMemberButNotTheSenderOrOtherRooms) {
  CoreHarness h;
  auto a = h.join("r", "alice");
  auto b =
      h.join("r", "bob", SubscribeMode::kManual, SubscribeMode::kManual);  // modes do not filter messages
  auto c = h.join("other", "carol");
  h.send(a, tev::SendMessage{"", "hello"});
  auto got = h.take<eev::Message>(b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].from, "alice");
  EXPECT_EQ(got[0].data, "hello");
  EXPECT_FALSE(got[0].direct);
  EXPECT_TRUE(h.take<eev::Message>(a).empty());
  EXPECT_TRUE(h.take<eev::Message>(c).empty());
}

TEST(Messages, DirectMessagesReachOnlyTheNamedPeer) {
  CoreHarness h;
  auto a = h.join("r", "alice");
  auto b = h.join("r", "bob");
  auto d = h.join("r", "dave");
  h.send(a, tev::SendMessage{"dave", "psst"});
  auto got = h.take<eev::Message>(d);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].direct);
  EXPECT_EQ(got[0].from, "alice");
  EXPECT_TRUE(h.take<eev::Message>(b).empty());
}

TEST(Messages, CodedErrorsForUnknownPeerTooLongAndNotJoined) {
  CoreHarness h;
  auto a = h.join("r", "alice");
  h.send(a, tev::SendMessage{"nobody", "x"});
  auto e = h.take<eev::ErrorEvent>(a);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].error.code, ErrorCode::kPeerNotFound);
  h.send(a, tev::SendMessage{"", std::string(Endpoint::kMaxMessageLength + 1, 'x')});
  e = h.take<eev::ErrorEvent>(a);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].error.code, ErrorCode::kInvalidArgument);
  auto idle = h.add();
  h.send(idle, tev::SendMessage{"", "x"});
  e = h.take<eev::ErrorEvent>(idle);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].error.code, ErrorCode::kNotJoined);
}

}  // namespace
}  // namespace atrium::core
