#include "cli/bench_sweep.h"

#include <charconv>
#include <map>
#include <set>

namespace vkvision::cli {

namespace {
const std::map<std::string, Precision> kPrecisions = {{"fp32", Precision::Fp32}, {"fp16", Precision::Fp16}};
const std::map<std::string, KernelFamily> kKernels = {{"auto", KernelFamily::Auto},
                                                      {"register", KernelFamily::RegisterBlocked},
                                                      {"tiled", KernelFamily::SharedTiled},
                                                      {"timed", KernelFamily::Timed}};

std::vector<std::string> split_values(const std::string& term, const std::string& values) {
  std::vector<std::string> result;
  size_t start = 0;
  while (true) {
    const size_t comma = values.find(',', start);
    result.push_back(values.substr(start, comma - start));
    if (result.back().empty()) throw InputError("--sweep " + term + ": an empty value");
    if (comma == std::string::npos) return result;
    start = comma + 1;
  }
}

template <typename T>
T lookup(const std::map<std::string, T>& names, const std::string& term, const std::string& value) {
  if (auto it = names.find(value); it != names.end()) return it->second;
  std::string known;
  for (const auto& [name, unused] : names) known += (known.empty() ? "" : ", ") + name;
  throw InputError("--sweep " + term + ": '" + value + "' is not one of " + known);
}

uint32_t parse_batch(const std::string& term, const std::string& value) {
  uint32_t batch = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), batch);
  if (error != std::errc() || end != value.data() + value.size() || batch == 0)
    throw InputError("--sweep " + term + ": '" + value + "' is not a positive batch size");
  return batch;
}
}  // namespace

std::vector<SweepPoint> parse_sweep(const std::vector<std::string>& terms, const SweepPoint& base) {
  std::vector<uint32_t> batches = {base.batch};
  std::vector<Precision> precisions = {base.precision};
  std::vector<KernelFamily> kernels = {base.kernels};
  std::set<std::string> seen;
  for (const std::string& term : terms) {
    const size_t equals = term.find('=');
    if (equals == std::string::npos)
      throw InputError("--sweep " + term + ": expected KEY=V1,V2 (keys: batch, precision, kernels)");
    const std::string key = term.substr(0, equals);
    if (!seen.insert(key).second) throw InputError("--sweep " + term + ": key '" + key + "' given twice");
    const std::vector<std::string> values = split_values(term, term.substr(equals + 1));
    if (key == "batch") {
      batches.clear();
      for (const auto& value : values) batches.push_back(parse_batch(term, value));
    } else if (key == "precision") {
      precisions.clear();
      for (const auto& value : values) precisions.push_back(lookup(kPrecisions, term, value));
    } else if (key == "kernels") {
      kernels.clear();
      for (const auto& value : values) kernels.push_back(lookup(kKernels, term, value));
    } else {
      throw InputError("--sweep " + term + ": unknown key '" + key + "' (keys: batch, precision, kernels)");
    }
  }
  std::vector<SweepPoint> grid;
  for (uint32_t batch : batches)
    for (Precision precision : precisions)
      for (KernelFamily family : kernels) grid.push_back({batch, precision, family});
  return grid;
}

std::string precision_name(Precision precision) { return precision == Precision::Fp16 ? "fp16" : "fp32"; }

std::string kernels_name(KernelFamily kernels) {
  for (const auto& [name, value] : kKernels)
    if (value == kernels) return name;
  return "auto";
}

}  // namespace vkvision::cli
