// The threading contract of vkvision.h, exercised (and run under ThreadSanitizer by the TSan job,
// which selects these tests by the word "Threading"): sessions of different models on one runtime
// in parallel threads, sessions sharing one model, and concurrent Model::load. Every result must be
// bit-identical to the same work done on one thread: the kernels and their order are the same, so
// any difference is a race.
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api_test.h"

namespace vkvision {
namespace {

using testing::expect_no_validation_messages;
using testing::FixtureModel;
using testing::validated_runtime;

constexpr int kThreads = 4;
constexpr int kRunsPerThread = 5;

// Four families, so the threads build different pipelines into the one pipeline cache at once.
const std::vector<FixtureModel> kModels = {
    {"convnext/timm.safetensors", "convnext/input.npy"},
    {"swin/v1_torchvision.pth", "swin/input32.npy"},
    {"repvgg/official_train.pth", "repvgg/input.npy"},
    {"inceptionnext/timm_atto_form.safetensors", "inceptionnext/input.npy"},
};

struct Workload {
  Model model;
  std::vector<float> image;
  uint32_t size = 0;
};

Workload workload(const FixtureModel& fixture) {
  Workload work{Model::load(testing::fixture_path(fixture.weights)), {}, 0};
  work.image = testing::first_image(fixture, work.size);
  return work;
}

std::vector<float> run_once(const std::shared_ptr<Runtime>& runtime, const Workload& work,
                            KernelFamily kernels = KernelFamily::Auto) {
  Session session(runtime, work.model, {.batch = 1, .input_size = work.size, .kernels = kernels});
  return session.run(work.image);
}

// Both GEMM families, named so that a fresh runtime cannot pick another one by a new timed trial.
KernelFamily family_of_thread(int t) {
  return t % 2 ? KernelFamily::SharedTiled : KernelFamily::RegisterBlocked;
}

// Runs body(t) on kThreads threads at once; an exception in a thread becomes a failure naming it.
template <typename Body>
void on_threads(Body body) {
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      try {
        body(t);
      } catch (const std::exception& error) {
        errors[t] = error.what();
      }
    });
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
}

TEST(ThreadingTest, SessionsOfDifferentModelsOnOneRuntimeMatchOneThread) {
  std::vector<Workload> work;
  for (const auto& fixture : kModels) work.push_back(workload(fixture));
  std::vector<std::vector<float>> expected;
  {
    auto single = validated_runtime();
    for (int t = 0; t < kThreads; ++t)
      expected.push_back(run_once(single, work[t % work.size()], family_of_thread(t)));
    expect_no_validation_messages(*single);
  }
  // A fresh runtime, so the threads also race to create pipelines for the first time.
  auto runtime = validated_runtime();
  std::vector<std::vector<std::vector<float>>> results(kThreads);
  on_threads([&](int t) {
    const Workload& mine = work[t % work.size()];
    Session session(runtime, mine.model,
                    {.batch = 1, .input_size = mine.size, .kernels = family_of_thread(t)});
    for (int run = 0; run < kRunsPerThread; ++run) results[t].push_back(session.run(mine.image));
  });
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t].size(), size_t(kRunsPerThread)) << "thread " << t;
    for (int run = 0; run < kRunsPerThread; ++run)
      EXPECT_EQ(results[t][run], expected[t])
          << kModels[t % kModels.size()].weights << ", thread " << t << ", run " << run;
  }
  expect_no_validation_messages(*runtime);
}

TEST(ThreadingTest, SessionsSharingOneModelMatchOneThread) {
  const Workload work = workload(kModels[0]);
  auto runtime = validated_runtime();
  const std::vector<float> expected = run_once(runtime, work);
  std::vector<std::vector<std::vector<float>>> results(kThreads);
  // Sessions are built on the threads too: construction reads the shared model concurrently.
  on_threads([&](int t) {
    Session session(runtime, work.model, {.batch = 1, .input_size = work.size});
    for (int run = 0; run < kRunsPerThread; ++run) results[t].push_back(session.run(work.image));
  });
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t].size(), size_t(kRunsPerThread)) << "thread " << t;
    for (int run = 0; run < kRunsPerThread; ++run)
      EXPECT_EQ(results[t][run], expected) << "thread " << t << ", run " << run;
  }
  expect_no_validation_messages(*runtime);
}

// Equal layer lists: the same layers and attributes (as described) and the same weight values.
void expect_same_layers(const ir::LayerList& actual, const ir::LayerList& expected, const std::string& what) {
  ASSERT_EQ(actual.layers.size(), expected.layers.size()) << what;
  for (size_t i = 0; i < actual.layers.size(); ++i) {
    const auto& a = actual.layers[i].params;
    const auto& b = expected.layers[i].params;
    ASSERT_EQ(a.size(), b.size()) << what << ", layer " << actual.layers[i].name;
    for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
      ASSERT_EQ(ia->first, ib->first) << what;
      ASSERT_EQ(ia->second.shape, ib->second.shape) << what << ", " << ia->first;
      const size_t bytes = static_cast<size_t>(ia->second.numel()) * sizeof(float);
      EXPECT_EQ(std::memcmp(ia->second.values(), ib->second.values(), bytes), 0)
          << what << ", layer " << actual.layers[i].name << ", " << ia->first;
    }
  }
}

TEST(ThreadingTest, ConcurrentModelLoadsOfTheSameAndDifferentFilesMatchOneThread) {
  // safetensors and torch.save files; two threads load each, so the same file is read twice at once.
  const std::vector<std::string> files = {"convnext/timm.safetensors", "convnext/torchvision.pth",
                                          "swin/v2_official.pth", "repvgg/official_train.pth"};
  std::vector<Model> expected;
  for (const auto& file : files) expected.push_back(Model::load(testing::fixture_path(file)));
  constexpr int kLoaders = 8;
  std::vector<std::optional<Model>> loaded(kLoaders);
  std::vector<std::string> errors(kLoaders);
  std::vector<std::thread> threads;
  for (int t = 0; t < kLoaders; ++t)
    threads.emplace_back([&, t] {
      try {
        loaded[t] = Model::load(testing::fixture_path(files[t % files.size()]));
      } catch (const std::exception& error) {
        errors[t] = error.what();
      }
    });
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kLoaders; ++t) {
    const std::string& file = files[t % files.size()];
    ASSERT_EQ(errors[t], "") << file;
    ASSERT_TRUE(loaded[t].has_value()) << file;
    const Model& reference = expected[t % files.size()];
    EXPECT_EQ(loaded[t]->describe_layers(true), reference.describe_layers(true)) << file;
    EXPECT_EQ(loaded[t]->describe_layers(false), reference.describe_layers(false)) << file;
    // The optimised list is a function of the built one, so equal built weights cover both.
    expect_same_layers(detail::Access::state(*loaded[t])->built, detail::Access::state(reference)->built,
                       file);
  }
}

}  // namespace
}  // namespace vkvision
