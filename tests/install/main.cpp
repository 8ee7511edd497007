// An application of the installed library: the default model from PREFIX/share/vkvision, one image
// through the public API, the top-1 label printed.   Usage: consumer PREFIX IMAGE
#include <vkvision/version.h>
#include <vkvision/vkvision.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: consumer PREFIX IMAGE\n");
    return 2;
  }
  // The headers and the library loaded at run time come from the same install.
  if (std::strcmp(vkvision::version(), VKVISION_VERSION_STRING) != 0) {
    std::fprintf(stderr, "consumer: library %s, headers %s\n", vkvision::version(), VKVISION_VERSION_STRING);
    return 1;
  }
  try {
    const auto model_path =
        std::filesystem::path(argv[1]) / "share/vkvision/models/convnext_fmnist.safetensors";
    const vkvision::Model model = vkvision::Model::load(model_path);
    vkvision::Session session(vkvision::Runtime::create(), model);
    const std::vector<float> input = session.preprocess(vkvision::decode_image(argv[2]));
    const std::vector<float> logits = session.run(input);
    const auto& info = model.info();
    const auto top = vkvision::top_k(logits, info.num_classes, 1, info.labels);
    std::printf("%s\n", top.at(0).at(0).label.c_str());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "consumer: %s\n", error.what());
    return 1;
  }
  return 0;
}
