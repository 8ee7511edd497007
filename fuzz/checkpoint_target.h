// What the safetensors and torch_zip targets share: Checkpoint::parse on arbitrary bytes (the format
// comes from the first bytes, so each target reaches both readers; the seeds decide where it
// spends its time), then every tensor read in full as to_float does, so a record that points past
// the file shows up under ASan.
#pragma once
#include "fuzz_support.h"
#include "io/checkpoint.h"

namespace vkvision::fuzz {

inline void parse_checkpoint(const char* file, const uint8_t* data, size_t size) {
  expect_clean_outcome(file, [&] {
    const auto bytes = as_bytes(data, size);
    const auto checkpoint = io::Checkpoint::parse(file, {bytes.begin(), bytes.end()});
    for (const std::string& name : checkpoint.names()) {
      const auto& record = checkpoint.at(name);
      if (size_t(record.numel()) * io::dtype_size(record.dtype) != record.nbytes) std::abort();
      checkpoint.to_float(name);
    }
  });
}

}  // namespace vkvision::fuzz
