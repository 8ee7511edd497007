// Where a bench record was made: the build (baked in at configure time), the host (read from /proc,
// /etc and uname at run time) and the process's peak memory. Linux probes; each falls back to
// "unknown" (or 0) where its source is missing, so a record always has every field.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace vkvision::cli {

struct BuildInfo {
  std::string version;     // vkvision::version()
  std::string commit;      // `git rev-parse --short HEAD` when CMake configured the tree, else "unknown"
  std::string build_type;  // CMAKE_BUILD_TYPE ("unknown" when empty)
  std::string compiler;    // CMAKE_CXX_COMPILER_ID and _VERSION, e.g. "GNU 12.2.0"
};

struct HostInfo {
  std::string cpu;     // the first "model name" of /proc/cpuinfo
  unsigned cores = 0;  // std::thread::hardware_concurrency()
  std::string os;      // PRETTY_NAME of /etc/os-release
  std::string kernel;  // uname -sr
  // The set ones of the variables that change what a benchmark measures (the device picked, the
  // driver loaded, lavapipe's threads and vector width, the drivers' own shader disk caches).
  std::map<std::string, std::string> environment;
};

BuildInfo build_info();
HostInfo probe_host();
// getrusage(RUSAGE_SELF) ru_maxrss in bytes: the process's peak resident set so far.
uint64_t peak_rss_bytes();
// The current time, UTC, as "2026-12-02T19:04:05Z".
std::string utc_now();

}  // namespace vkvision::cli
