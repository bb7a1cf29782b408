#include "server/worker_pool.h"

#include <atomic>
#include <future>
#include <memory>
#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace atrium::server {
namespace {

TEST(WorkerPool, RunsPostedWorkOnItsOwnThreads) {
  WorkerPool pool(3);
  pool.start();
  std::set<std::thread::id> threads;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    std::promise<std::thread::id> where;
    Worker& worker = pool.at(i);
    worker.post([&] {
      EXPECT_TRUE(worker.in_worker_thread());
      where.set_value(std::this_thread::get_id());
    });
    threads.insert(where.get_future().get());
  }
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
  pool.stop();
}

TEST(WorkerPool, StartHookOwnsPerWorkerObjectsDestroyedOnTheWorkerThread) {
  struct Hub {
    explicit Hub(std::atomic<int>* destroyed_on_worker) : flag(destroyed_on_worker) {}
    ~Hub() {
      if (owner == std::this_thread::get_id()) flag->fetch_add(1);
    }
    std::atomic<int>* flag;
    std::thread::id owner = std::this_thread::get_id();
  };
  std::atomic<int> destroyed_on_worker{0};
  {
    WorkerPool pool(2);
    pool.start([&](Worker& worker) { worker.emplace<Hub>(&destroyed_on_worker); });
    std::promise<bool> found;
    pool.at(1).post(
        [&] { found.set_value(pool.at(1).find<Hub>() != nullptr && pool.at(1).find<int>() == nullptr); });
    EXPECT_TRUE(found.get_future().get());
  }
  EXPECT_EQ(destroyed_on_worker.load(), 2);
}

TEST(WorkerPool, NextIsRoundRobin) {
  WorkerPool pool(2);
  EXPECT_EQ(pool.next().index(), 0u);
  EXPECT_EQ(pool.next().index(), 1u);
  EXPECT_EQ(pool.next().index(), 0u);
}

TEST(WorkerPool, SurvivesAThrowingHandler) {
  WorkerPool pool(1);
  pool.start();
  pool.at(0).post([] { throw std::runtime_error("boom"); });
  std::promise<void> after;
  pool.at(0).post([&] { after.set_value(); });
  EXPECT_EQ(after.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

TEST(WorkerPool, StopIsIdempotentAndDropsPendingWork) {
  WorkerPool pool(1);
  pool.start();
  pool.stop();
  auto flag = std::make_shared<int>(0);
  pool.at(0).post([flag] { ++*flag; });
  pool.stop();
  EXPECT_EQ(*flag, 0);
}

}  // namespace
}  // namespace atrium::server
