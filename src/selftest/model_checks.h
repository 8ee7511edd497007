// The family fixtures of `vkvision selftest`: each family's small seeded network, saved by PyTorch in
// one of its namings (tests/fixtures/README.md says how each was made), run on every GEMM kernel
// family and weight precision the device can, against the logits PyTorch computed for it.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "selftest/run_check.h"
#include "vkvision/vkvision.h"

namespace vkvision::selftest {

struct FamilyFixture {
  const char* family;   // ModelInfo::family the checkpoint must be recognised as
  const char* weights;  // paths under the fixtures folder
  const char* input;    // [N, 3, H, W] float32 .npy
  const char* logits;   // [N, classes] float32 .npy, from PyTorch
};

// One fixture per family and naming the tests cover, in the order the self-test runs them.
const std::vector<FamilyFixture>& family_fixtures();

// Runs every fixture whose family or file contains `filter` (all when empty) on `runtime`, calling
// `report` with each result as it comes. A fixture missing from `folder` is a failed check.
void run_model_checks(const std::shared_ptr<Runtime>& runtime, const std::filesystem::path& folder,
                      const std::string& filter, const std::function<void(const CheckResult&)>& report);

}  // namespace vkvision::selftest
