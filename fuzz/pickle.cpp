// The unpickler alone on arbitrary bytes: it must stop with a runtime_error (which the ZIP reader
// turns into a one-line InputError) or a document, within its value, depth and memo limits.
#include <stdexcept>

#include "fuzz_support.h"
#include "io/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const vkvision::io::pickle::Document document =
        vkvision::io::pickle::load(vkvision::fuzz::as_bytes(data, size));
    (void)document.root();
  } catch (const std::runtime_error&) {
  } catch (const std::exception& error) {
    vkvision::fuzz::broken_promise("unexpected exception type", error.what());
  }
  return 0;
}
