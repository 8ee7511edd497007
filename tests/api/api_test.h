// What the public-API tests share: fixture models with their inputs, runtimes of their own (a test
// that loses or budgets a runtime must not touch another's), and the validation check on each.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "api/state.h"
#include "io/npy.h"
#include "support/paths.h"
#include "vkvision/vkvision.h"

namespace vkvision::testing {

// A committed fixture checkpoint and the input its logits were computed for.
struct FixtureModel {
  std::string weights;  // relative to the fixtures directory
  std::string input;
};

inline std::filesystem::path fixture_path(const std::string& relative) { return fixtures_dir() / relative; }

// The first image of a fixture's input batch [N, 3, S, S], and S.
inline std::vector<float> first_image(const FixtureModel& model, uint32_t& size) {
  const io::NpyArray input = io::read_npy(fixture_path(model.input));
  size = static_cast<uint32_t>(input.shape[2]);
  const size_t count = input.data.size() / static_cast<size_t>(input.shape[0]);
  return {input.data.begin(), input.data.begin() + static_cast<std::ptrdiff_t>(count)};
}

inline std::shared_ptr<Runtime> validated_runtime(DeviceOptions options = {}) {
  options.validation = true;
  return Runtime::create(options);
}

inline void expect_no_validation_messages(const Runtime& runtime) {
  for (const auto& message : runtime.validation_messages()) ADD_FAILURE() << "validation: " << message;
}

inline vk::MemoryBudget& memory_budget(const Runtime& runtime) {
  return detail::Access::state(runtime).context->memory_budget();
}

}  // namespace vkvision::testing
