// Where tests find committed fixtures and the source tree: the environment overrides, else the
// paths CMake compiled in (so a test binary run by hand finds them too).
#pragma once
#include <cstdlib>
#include <filesystem>

namespace vkvision::testing {

inline std::filesystem::path fixtures_dir() {
  const char* dir = std::getenv("VKVISION_FIXTURES");
  return dir && dir[0] ? dir : VKVISION_TEST_FIXTURES;
}

inline std::filesystem::path source_dir() {
  const char* dir = std::getenv("VKVISION_SOURCE_DIR");
  return dir && dir[0] ? dir : VKVISION_TEST_SOURCE_DIR;
}

}  // namespace vkvision::testing
