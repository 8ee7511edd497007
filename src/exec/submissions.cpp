#include "exec/submissions.h"

#include <algorithm>

#include "vk/check.h"
#include "vkvision/error.h"

namespace vkvision::exec {

Submissions::Submissions(std::shared_ptr<vk::Context> context) : context_(std::move(context)) {
  if (!context_->info().timeline_semaphore) return;
  VkSemaphoreTypeCreateInfo type{.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                 .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
                                 .initialValue = 0};
  VkSemaphoreCreateInfo info{.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &type};
  VKV_CHECK(vkCreateSemaphore(context_->device(), &info, nullptr, &timeline_));
}

Submissions::~Submissions() {
  try {
    wait_all();
  } catch (const Error&) {
    // A hung or lost device: what still runs may use the objects, so they are left (as arenas do).
    return;
  }
  const VkDevice device = context_->device();
  if (timeline_) vkDestroySemaphore(device, timeline_, nullptr);
  for (const auto& [id, fence] : running_) vkDestroyFence(device, fence, nullptr);
  for (VkFence fence : free_fences_) vkDestroyFence(device, fence, nullptr);
}

void Submissions::recycle_finished_fences() {
  if (waiters_ > 0) return;  // a fence being waited on is not reset under its waiter
  for (auto it = running_.begin(); it != running_.end();) {
    if (vkGetFenceStatus(context_->device(), it->second) != VK_SUCCESS) {
      ++it;
      continue;
    }
    VKV_CHECK(vkResetFences(context_->device(), 1, &it->second));
    free_fences_.push_back(it->second);
    it = running_.erase(it);
  }
}

uint64_t Submissions::submit(VkCommandBuffer commands, const SubmitSync& sync) {
  if (sync.wait_stages.size() != sync.wait_semaphores.size())
    throw InputError("SubmitSync: " + std::to_string(sync.wait_semaphores.size()) + " wait semaphores but " +
                     std::to_string(sync.wait_stages.size()) + " wait stages");
  if (!sync.wait_values.empty() && sync.wait_values.size() != sync.wait_semaphores.size())
    throw InputError("SubmitSync: wait_values must be empty or one per wait semaphore");
  std::lock_guard lock(mutex_);
  const uint64_t id = last_ + 1;
  std::vector<VkSemaphore> signals;
  std::vector<uint64_t> signal_values;
  if (sync.signal_semaphore)
    signals.push_back(sync.signal_semaphore), signal_values.push_back(sync.signal_value);
  if (timeline_) signals.push_back(timeline_), signal_values.push_back(id);
  const bool timeline_values = timeline_ || !sync.wait_values.empty() || sync.signal_value;
  VkTimelineSemaphoreSubmitInfo values{
      .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
      .waitSemaphoreValueCount = static_cast<uint32_t>(sync.wait_values.size()),
      .pWaitSemaphoreValues = sync.wait_values.data(),
      .signalSemaphoreValueCount = static_cast<uint32_t>(signal_values.size()),
      .pSignalSemaphoreValues = signal_values.data()};
  VkSubmitInfo submit{.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                      .pNext = timeline_values ? &values : nullptr,
                      .waitSemaphoreCount = static_cast<uint32_t>(sync.wait_semaphores.size()),
                      .pWaitSemaphores = sync.wait_semaphores.data(),
                      .pWaitDstStageMask = sync.wait_stages.data(),
                      .commandBufferCount = 1,
                      .pCommandBuffers = &commands,
                      .signalSemaphoreCount = static_cast<uint32_t>(signals.size()),
                      .pSignalSemaphores = signals.data()};
  VkFence fence = VK_NULL_HANDLE;
  if (!timeline_) {
    recycle_finished_fences();
    if (free_fences_.empty()) {
      VkFenceCreateInfo info{.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
      VKV_CHECK(vkCreateFence(context_->device(), &info, nullptr, &fence));
    } else {
      fence = free_fences_.back();
      free_fences_.pop_back();
    }
  }
  try {
    context_->submit(submit, fence);
  } catch (...) {
    if (fence) free_fences_.push_back(fence);
    throw;
  }
  if (fence) running_[id] = fence;
  last_ = id;
  return id;
}

bool Submissions::finished(uint64_t id) { return wait(id, std::chrono::nanoseconds(0)); }

bool Submissions::wait(uint64_t id, std::chrono::nanoseconds timeout) {
  if (id == 0) return true;
  const uint64_t timeout_ns =
      timeout == std::chrono::nanoseconds::max() ? UINT64_MAX : uint64_t(timeout.count());
  if (timeline_) {
    VkSemaphoreWaitInfo info{.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                             .semaphoreCount = 1,
                             .pSemaphores = &timeline_,
                             .pValues = &id};
    const VkResult result = vkWaitSemaphores(context_->device(), &info, timeout_ns);
    if (result == VK_TIMEOUT) return false;
    context_->check_wait(result, "vkWaitSemaphores");
    return true;
  }
  VkFence fence = VK_NULL_HANDLE;
  {
    std::lock_guard lock(mutex_);
    const auto it = running_.find(id);
    if (it == running_.end()) return true;  // seen finished and recycled
    fence = it->second;
    ++waiters_;
  }
  const VkResult result = vkWaitForFences(context_->device(), 1, &fence, VK_TRUE, timeout_ns);
  {
    std::lock_guard lock(mutex_);
    --waiters_;
  }
  if (result == VK_TIMEOUT) return false;
  context_->check_wait(result, "vkWaitForFences");
  return true;
}

void Submissions::wait_all() {
  const uint64_t id = last();
  if (!wait(id, std::chrono::nanoseconds(context_->submit_timeout_ns())))
    context_->check_wait(VK_TIMEOUT, "waiting for the session's submissions");
  if (timeline_) return;
  std::lock_guard lock(mutex_);
  for (const auto& [running_id, fence] : running_)
    context_->check_wait(
        vkWaitForFences(context_->device(), 1, &fence, VK_TRUE, context_->submit_timeout_ns()),
        "vkWaitForFences");
}

uint64_t Submissions::last() const {
  std::lock_guard lock(mutex_);
  return last_;
}

}  // namespace vkvision::exec
