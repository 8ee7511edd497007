// Checkpoints from bytes, seeded with safetensors files (fuzz/corpus/safetensors).
#include "checkpoint_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vkvision::fuzz::parse_checkpoint("fuzz.safetensors", data, size);
  return 0;
}
