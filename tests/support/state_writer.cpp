// Saves the state over and over until killed, for the SIGKILL test. Each document carries a
// counter and a payload derived from it, so a reader can tell a torn or mixed file.
#include <cstdio>
#include <string>

#include "core/state_store.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: state_writer DIR\n");
    return 2;
  }
  ddnswatch::SystemClock clock;
  ddnswatch::StateStore store(argv[1], clock);
  auto loaded = store.load();
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().message.c_str());
    return 1;
  }
  int64_t counter = loaded->data.value("counter", int64_t{0});
  for (;;) {
    ++counter;
    nlohmann::json data = {
        {"counter", counter},
        {"payload", std::string(static_cast<size_t>(counter * 7919 % 200000),
                                static_cast<char>('a' + counter % 26))},
    };
    if (auto r = store.save(data); !r) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      return 1;
    }
  }
}
