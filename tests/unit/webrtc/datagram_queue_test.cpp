// The send queue: fixed slots that never move while queued, drops counted when full, and memory allocated
// only as deep as the queue has ever been.
#include "transport/webrtc/session/datagram_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace atrium::webrtc {
namespace {

void push(DatagramQueue& q, uint8_t tag) {
  auto slot = q.prepare();
  ASSERT_FALSE(slot.empty());
  slot[0] = tag;
  q.commit(1, SocketAddress{});
}

TEST(DatagramQueue, AQueueDrainedOftenHoldsOneBlock) {
  DatagramQueue q(64);
  EXPECT_EQ(q.allocated_bytes(), 0u);
  for (int round = 0; round < 1000; ++round) {  // an idle client: one datagram at a time, sent at once
    push(q, static_cast<uint8_t>(round));
    ASSERT_EQ(q.front()->data[0], static_cast<uint8_t>(round));
    q.pop();
  }
  EXPECT_EQ(q.allocated_bytes(), DatagramQueue::kBlockSlots * DatagramQueue::kSlotSize);
}

TEST(DatagramQueue, SlotsStayPutAsTheQueueGrowsAndFullIsADrop) {
  DatagramQueue q(20);
  push(q, 0);
  const uint8_t* first = q.at(0).data.data();
  for (uint8_t i = 1; i < 20; ++i)
    push(q, i);
  EXPECT_EQ(q.at(0).data.data(), first) << "a queued datagram never moves";
  for (uint8_t i = 0; i < 20; ++i)
    EXPECT_EQ(q.at(i).data[0], i);
  EXPECT_EQ(q.allocated_bytes(), 3 * DatagramQueue::kBlockSlots * DatagramQueue::kSlotSize);
  EXPECT_TRUE(q.prepare().empty());
  EXPECT_EQ(q.dropped(), 1u);
  // Popped from the front while more come: the ring wraps inside the blocks it has.
  for (uint8_t i = 0; i < 10; ++i)
    q.pop();
  for (uint8_t i = 20; i < 30; ++i)
    push(q, i);
  for (uint8_t i = 0; i < 20; ++i)
    EXPECT_EQ(q.at(i).data[0], static_cast<uint8_t>(i + 10));
  EXPECT_EQ(q.allocated_bytes(), 3 * DatagramQueue::kBlockSlots * DatagramQueue::kSlotSize);
}

}  // namespace
}  // namespace atrium::webrtc
