#include "vkvision/version.h"

namespace vkvision {

const char* version() noexcept { return VKVISION_VERSION_STRING; }

}  // namespace vkvision
