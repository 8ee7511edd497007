// Checkpoint::parse on arbitrary bytes (seeded with torch.save ZIP files), then every tensor read in
// full as to_float does: a reader that let a tensor point past the file shows up under ASan.
#include "fuzz_support.h"
#include "io/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* file = "fuzz.pth";
  vkvision::fuzz::expect_clean_outcome(file, [&] {
    const auto bytes = vkvision::fuzz::as_bytes(data, size);
    const auto checkpoint = vkvision::io::Checkpoint::parse(file, {bytes.begin(), bytes.end()});
    for (const std::string& name : checkpoint.names()) {
      const auto& record = checkpoint.at(name);
      if (size_t(record.numel()) * vkvision::io::dtype_size(record.dtype) != record.nbytes) std::abort();
      checkpoint.to_float(name);
    }
  });
  return 0;
}
