// Selects a device profile (tests/support/device_profiles, or a JSON file's path) for the contexts a
// test creates, restoring the suite's own VKVISION_DEVICE_PROFILE afterwards: a test that needs a
// device class gets it whatever profile the whole suite runs under.
#pragma once
#include <cstdlib>
#include <optional>
#include <string>

namespace vkvision::testing {

class ScopedProfile {
 public:
  explicit ScopedProfile(const std::string& profile) {
    if (const char* value = std::getenv("VKVISION_DEVICE_PROFILE")) previous_ = value;
    setenv("VKVISION_DEVICE_PROFILE", profile.c_str(), 1);
  }
  ~ScopedProfile() {
    if (previous_)
      setenv("VKVISION_DEVICE_PROFILE", previous_->c_str(), 1);
    else
      unsetenv("VKVISION_DEVICE_PROFILE");
  }
  ScopedProfile(const ScopedProfile&) = delete;
  ScopedProfile& operator=(const ScopedProfile&) = delete;

 private:
  std::optional<std::string> previous_;
};

}  // namespace vkvision::testing
