// The .npy reader on arbitrary bytes: a parsed array's element count must match its shape.
#include "io/npy.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* file = "fuzz.npy";
  vkvision::fuzz::expect_clean_outcome(file, [&] {
    const auto array = vkvision::io::parse_npy(file, vkvision::fuzz::as_bytes(data, size));
    size_t count = 1;
    for (int64_t dim : array.shape) count *= size_t(dim);
    if (count != array.data.size()) std::abort();
  });
  return 0;
}
