// The device memory a context's arenas hold, checked against DeviceOptions::device_memory_budget.
// Reservations come from any thread (sessions are built concurrently), so the count is one atomic
// updated by compare-and-swap: two reservations can never both pass a limit only one fits.
#pragma once
#include <atomic>
#include <cstdint>

namespace vkvision::vk {

class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t limit = 0) : limit_(limit) {}

  // Counts `bytes` as held and returns true, or returns false and holds nothing more when that
  // would pass the limit. With no limit (0) it always succeeds and only counts.
  bool try_reserve(uint64_t bytes) {
    uint64_t held = held_.load();
    do {
      if (limit_ != 0 && (bytes > limit_ || held > limit_ - bytes)) return false;
    } while (!held_.compare_exchange_weak(held, held + bytes));
    uint64_t peak = peak_.load();
    while (held + bytes > peak && !peak_.compare_exchange_weak(peak, held + bytes)) {
    }
    return true;
  }
  void release(uint64_t bytes) { held_.fetch_sub(bytes); }

  uint64_t held() const { return held_.load(); }
  uint64_t peak() const { return peak_.load(); }  // the most held at once
  uint64_t limit() const { return limit_; }       // 0: none
  uint64_t left() const {
    const uint64_t held_now = held();
    return held_now >= limit_ ? 0 : limit_ - held_now;
  }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> held_{0};
  std::atomic<uint64_t> peak_{0};
};

}  // namespace vkvision::vk
