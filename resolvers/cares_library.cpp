#include "resolvers/cares_library.h"

#include <ares.h>

namespace ddnswatch::resolvers {

Result<CaresLibrary> CaresLibrary::init() {
  int rc = ares_library_init(ARES_LIB_INIT_ALL);
  if (rc != ARES_SUCCESS) {
    return make_error(ErrorCode::kInternal, std::string("ares_library_init: ") + ares_strerror(rc));
  }
  return CaresLibrary();
}

CaresLibrary::~CaresLibrary() {
  if (active_) ares_library_cleanup();
}

std::string cares_version() { return ares_version(nullptr); }

}  // namespace ddnswatch::resolvers
