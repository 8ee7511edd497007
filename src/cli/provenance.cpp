#include "cli/provenance.h"

#include <sys/resource.h>
#include <sys/utsname.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <thread>

#include "vkvision/version.h"

// Set on this file alone by src/cli/CMakeLists.txt at configure time.
#ifndef VKVISION_COMMIT_SHORT
#define VKVISION_COMMIT_SHORT ""
#endif
#ifndef VKVISION_BUILD_TYPE
#define VKVISION_BUILD_TYPE ""
#endif
#ifndef VKVISION_COMPILER
#define VKVISION_COMPILER ""
#endif

namespace vkvision::cli {

namespace {
std::string or_unknown(std::string value) { return value.empty() ? "unknown" : value; }

// The value of the first line "KEY<separator>VALUE" of a file, trimmed of blanks and quotes.
std::string first_value(const char* path, const std::string& key, char separator) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t split = line.find(separator);
    if (split == std::string::npos) continue;
    std::string name = line.substr(0, split);
    name.erase(name.find_last_not_of(" \t") + 1);
    if (name != key) continue;
    std::string value = line.substr(split + 1);
    const size_t first = value.find_first_not_of(" \t\"");
    if (first == std::string::npos) return "";
    value = value.substr(first);
    value.erase(value.find_last_not_of(" \t\"") + 1);
    return value;
  }
  return "";
}
}  // namespace

BuildInfo build_info() {
  return {vkvision::version(), or_unknown(VKVISION_COMMIT_SHORT), or_unknown(VKVISION_BUILD_TYPE),
          or_unknown(VKVISION_COMPILER)};
}

HostInfo probe_host() {
  HostInfo host;
  host.cpu = or_unknown(first_value("/proc/cpuinfo", "model name", ':'));
  host.cores = std::thread::hardware_concurrency();
  host.os = or_unknown(first_value("/etc/os-release", "PRETTY_NAME", '='));
  utsname names{};
  host.kernel = uname(&names) == 0 ? std::string(names.sysname) + " " + names.release : "unknown";
  for (const char* name :
       {"LP_NUM_THREADS", "VKVISION_DEVICE", "VK_ICD_FILENAMES", "VK_DRIVER_FILES", "LP_NATIVE_VECTOR_WIDTH",
        "MESA_VK_DEVICE_SELECT", "__GL_SHADER_DISK_CACHE", "MESA_SHADER_CACHE_DISABLE"})
    if (const char* value = std::getenv(name)) host.environment[name] = value;
  return host;
}

uint64_t peak_rss_bytes() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace vkvision::cli
