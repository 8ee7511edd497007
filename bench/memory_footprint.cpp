// Host memory of one session, as docs/RELIABILITY.md records it: the process's resident set (VmRSS)
// and high-water mark (VmHWM) after loading the model, after building the session (weights
// uploaded), and after one run; plus the device bytes the session holds. With SESSIONS > 1, further
// sessions of the same model on the same runtime (sharing its device weights) are built after it.
//   vkvision_memory CHECKPOINT [BATCH] [SESSIONS]
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <vkvision/vkvision.h>

namespace {

// kB values of /proc/self/status fields.
long status_kib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

void report(const char* when) {
  std::printf("%-16s VmRSS %6.0f MiB (anonymous %6.0f, file %6.0f)  VmHWM %6.0f MiB\n", when,
              status_kib("VmRSS") / 1024.0, status_kib("RssAnon") / 1024.0, status_kib("RssFile") / 1024.0,
              status_kib("VmHWM") / 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CHECKPOINT [BATCH] [SESSIONS]\n", argv[0]);
    return 2;
  }
  try {
    const uint32_t batch = argc > 2 ? uint32_t(std::stoul(argv[2])) : 1;
    report("start");
    const vkvision::Model model = vkvision::Model::load(argv[1]);
    report("model loaded");
    const auto runtime = vkvision::Runtime::create();
    report("device opened");
    vkvision::Session session(runtime, model, {.batch = batch});
    report("session built");
    const size_t count =
        size_t(batch) * session.input_channels() * session.input_size() * session.input_size();
    session.run(std::vector<float>(count, 0.5f));
    report("after one run");
    std::printf("device: weights %.1f MiB, activations %.1f MiB (batch %u, %u images per submit)\n",
                session.weight_bytes() / 1048576.0, session.activation_bytes() / 1048576.0, batch,
                session.sub_batch());
    std::vector<vkvision::Session> more;
    for (int i = 1; i < (argc > 3 ? std::stoi(argv[3]) : 1); ++i) {
      more.emplace_back(runtime, model, vkvision::SessionOptions{.batch = batch});
      report(("session " + std::to_string(i + 1) + " built").c_str());
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  }
}
