// Timestamp arithmetic: only a queue's timestampValidBits of each value count (36 on some GPUs, so
// a nanosecond clock wraps every 68.7 s), so an interval is the difference modulo 2^bits.
#pragma once
#include <cstdint>

namespace vkvision::vk {

inline uint64_t elapsed_ticks(uint64_t begin, uint64_t end, uint32_t valid_bits) {
  const uint64_t mask = valid_bits >= 64 ? ~uint64_t(0) : (uint64_t(1) << valid_bits) - 1;
  return (end - begin) & mask;
}

}  // namespace vkvision::vk
