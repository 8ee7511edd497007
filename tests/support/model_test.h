// Base for tests that run whole models through the public API: one Runtime for the test program,
// with validation on, and every validation message raised during a test fails that test.
#pragma once
#include <memory>

#include "support/device_test.h"
#include "vkvision/vkvision.h"

namespace vkvision::testing {

class ModelTest : public DeviceTest {
 protected:
  static std::shared_ptr<Runtime> runtime() {
    static std::shared_ptr<Runtime> shared = Runtime::create({.validation = true});
    return shared;
  }

  void SetUp() override {
    DeviceTest::SetUp();
    runtime_messages_before_ = runtime()->validation_messages().size();
  }

  void TearDown() override {
    DeviceTest::TearDown();
    const auto messages = runtime()->validation_messages();
    for (size_t i = runtime_messages_before_; i < messages.size(); ++i)
      ADD_FAILURE() << "validation: " << messages[i];
  }

 private:
  size_t runtime_messages_before_ = 0;
};

}  // namespace vkvision::testing
