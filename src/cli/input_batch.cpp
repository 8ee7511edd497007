#include "cli/input_batch.h"

namespace vkvision::cli {

io::PreprocessConfig preprocess_config(const Preprocessing& p) {
  io::PreprocessConfig config;
  config.input_size = static_cast<int>(p.input_size);
  config.crop_pct = p.crop_pct;
  config.interpolation =
      p.interpolation == "bilinear" ? io::Interpolation::Bilinear : io::Interpolation::Bicubic;
  config.channels = static_cast<int>(p.channels);
  config.mean = p.mean;
  config.std = p.std;
  return config;
}

std::vector<float> make_batch(const std::vector<io::Image>& images, const Preprocessing& preprocessing) {
  const io::PreprocessConfig config = preprocess_config(preprocessing);
  std::vector<float> batch;
  for (const io::Image& image : images) {
    std::vector<float> chw = io::preprocess(image, config);
    batch.insert(batch.end(), chw.begin(), chw.end());
  }
  return batch;
}

std::vector<float> load_batch(const std::vector<std::string>& paths, const Preprocessing& preprocessing) {
  const io::PreprocessConfig config = preprocess_config(preprocessing);
  std::vector<float> batch;
  for (const std::string& path : paths) {
    const std::vector<float> chw = io::preprocess(io::decode_image(path), config);
    batch.insert(batch.end(), chw.begin(), chw.end());
  }
  return batch;
}

}  // namespace vkvision::cli
