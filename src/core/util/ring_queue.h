// A FIFO that reuses its storage: after warm-up, push/pop never allocate (std::deque frees and reallocates
// blocks as it moves, which shows up per packet on the fan-out path).
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace atrium::core {

template <typename T>
class RingQueue {
 public:
  explicit RingQueue(size_t initial_capacity = 64) : slots_(initial_capacity ? initial_capacity : 1) {}

  void push(T value) {
    if (size_ == slots_.size()) grow();
    slots_[(head_ + size_) % slots_.size()] = std::move(value);
    ++size_;
  }

  std::optional<T> pop() {
    if (size_ == 0) return std::nullopt;
    std::optional<T> out(std::move(slots_[head_]));
    head_ = (head_ + 1) % slots_.size();
    --size_;
    return out;
  }

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

 private:
  void grow() {
    std::vector<T> bigger(slots_.size() * 2);
    for (size_t i = 0; i < size_; ++i)
      bigger[i] = std::move(slots_[(head_ + i) % slots_.size()]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace atrium::core
