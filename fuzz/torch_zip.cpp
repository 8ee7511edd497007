// Checkpoints from bytes, seeded with torch.save ZIP archives (fuzz/corpus/torch_zip).
#include "checkpoint_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vkvision::fuzz::parse_checkpoint("fuzz.pth", data, size);
  return 0;
}
