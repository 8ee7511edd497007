// A session's submissions that nobody waits for at once (Session::submit): each gets an id, done
// when the session's timeline semaphore reaches it, or when its fence signals on devices without
// timeline semaphores. Waits are only ever on these, vkvision's own, never on the host's work.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "vk/context.h"
#include "vkvision/embedding.h"

namespace vkvision::exec {

class Submissions {
 public:
  explicit Submissions(std::shared_ptr<vk::Context> context);
  // Waits (at most DeviceOptions::submit_timeout_ms) for what is still running, then destroys the
  // semaphore or fences.
  ~Submissions();
  Submissions(const Submissions&) = delete;
  Submissions& operator=(const Submissions&) = delete;

  // Submits `commands` after the host's waits, signalling the host's semaphore and the submission's
  // own; returns its id. Throws DeviceError when the submit fails. Thread-safe.
  uint64_t submit(VkCommandBuffer commands, const SubmitSync& sync);
  // Id 0 is always finished. Throw DeviceError on a lost device; thread-safe.
  bool finished(uint64_t id);
  bool wait(uint64_t id, std::chrono::nanoseconds timeout);
  // Waits for every submission, at most the context's submit timeout (then DeviceError).
  void wait_all();
  uint64_t last() const;

 private:
  void recycle_finished_fences();  // with mutex_ held

  std::shared_ptr<vk::Context> context_;
  VkSemaphore timeline_ = VK_NULL_HANDLE;  // where the device has timeline semaphores
  mutable std::mutex mutex_;
  uint64_t last_ = 0;
  std::map<uint64_t, VkFence> running_;  // fence path: ids not yet seen finished
  std::vector<VkFence> free_fences_;
  int waiters_ = 0;  // threads in vkWaitForFences on a running fence
};

}  // namespace vkvision::exec
