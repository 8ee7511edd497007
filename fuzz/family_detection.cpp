// Family detection and building from random names and shapes. The input is text, one tensor a line:
// "<name> <dim> <dim> ...", seeded with the names and shapes of every checkpoint fixture
// (tools/make_fuzz_seeds.py). Each input is detected, built, shape-checked and optimised as
// Model::load does; a bad checkpoint must end in a one-line InputError naming it, never another
// exception, a crash or a sanitizer report.
#include <cstring>
#include <map>
#include <sstream>
#include <string>

#include "fuzz_support.h"
#include "io/untrusted.h"
#include "ir/passes.h"
#include "models/family.h"

namespace {

constexpr int64_t kMaxTensorElements = 1 << 20, kMaxTotalElements = 1 << 21;

// Small positive values, so BatchNorm variances are valid and folds stay finite.
std::vector<float> fill(int64_t count, size_t seed) {
  std::vector<float> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[size_t(i)] = 0.1f + 0.05f * float((i * 7 + int64_t(seed)) % 19);
  return values;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkvision;
  std::map<std::string, ir::HostTensor> tensors;
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  int64_t total = 0;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string name;
    if (!(fields >> name)) continue;
    if (!io::is_printable_name(name)) return 0;  // the readers refuse these before any family sees them
    std::vector<int64_t> shape;
    int64_t count = 1;
    for (int64_t dim; shape.size() < 6 && fields >> dim;) {
      if (dim < 0 || dim > kMaxTensorElements) return 0;  // outside what this target generates
      shape.push_back(dim);
      count *= dim;
      if (count > kMaxTensorElements) return 0;
    }
    total += count;
    if (total > kMaxTotalElements) return 0;
    tensors[name] = ir::HostTensor::from(shape, fill(count, tensors.size()));
  }
  const std::string origin = "fuzz.safetensors";
  fuzz::expect_clean_outcome(origin, [&] {
    const models::WeightSource source = models::WeightSource::from_tensors(tensors, origin);
    const models::Family& family = models::detect_family(source);
    models::BuiltModel built = family.build(source, "");
    try {
      const uint32_t input = built.info.preprocessing.input_size;
      ir::infer_shapes(built.layers, 1, input, input);
      ir::optimize(built.layers);
    } catch (const InputError& error) {  // Model::load prefixes these with the file, as here
      if (std::strncmp(error.what(), origin.c_str(), origin.size()) == 0) throw;
      throw InputError(origin + ": " + error.what());
    }
  });
  return 0;
}
