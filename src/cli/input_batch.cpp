#include "cli/input_batch.h"

#include "api/preprocess_config.h"

namespace vkvision::cli {

std::vector<float> make_batch(const std::vector<io::Image>& images, const Preprocessing& preprocessing) {
  const io::PreprocessConfig config = detail::preprocess_config(preprocessing);
  std::vector<float> batch;
  for (const io::Image& image : images) {
    std::vector<float> chw = io::preprocess(image, config);
    batch.insert(batch.end(), chw.begin(), chw.end());
  }
  return batch;
}

std::vector<float> load_batch(const std::vector<std::string>& paths, const Preprocessing& preprocessing) {
  const io::PreprocessConfig config = detail::preprocess_config(preprocessing);
  std::vector<float> batch;
  for (const std::string& path : paths) {
    const std::vector<float> chw = io::preprocess(io::decode_image(path), config);
    batch.insert(batch.end(), chw.begin(), chw.end());
  }
  return batch;
}

}  // namespace vkvision::cli
