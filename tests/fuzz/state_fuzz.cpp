// The daemon's reading of its state file (core/state_store) and of what it restores from it:
// the updater's records and the monitor's expected answers. The file survives crashes and
// upgrades and may be edited by hand; whatever it holds, loading it either yields the state,
// moves a corrupt file aside, or refuses a newer format, and restoring never throws.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/state_store.h"
#include "fuzz/fuzz_check.h"
#include "monitor/monitor.h"
#include "resolvers/dns_engine.h"
#include "updater/updater.h"

using namespace ddnswatch;

namespace {

struct World {
  std::filesystem::path dir;
  SystemClock clock;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<resolvers::DnsEngine> engine;
};

World& world() {
  static World* w = [] {
    auto* made = new World;
    char name[] = "/tmp/ddnswatch-state-fuzz-XXXXXX";
    if (mkdtemp(name) == nullptr) fuzz::fail(__FILE__, __LINE__, "mkdtemp");
    made->dir = name;
    std::atexit([] { std::filesystem::remove_all(world().dir); });
    auto loop = EventLoop::create();
    if (!loop) fuzz::fail(__FILE__, __LINE__, "the event loop");
    made->loop = std::move(*loop);
    auto engine = resolvers::DnsEngine::create(*made->loop, made->clock);
    if (!engine) fuzz::fail(__FILE__, __LINE__, "the DNS engine");
    made->engine = std::move(*engine);
    return made;
  }();
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  StateStore store(w.dir, w.clock);
  {
    std::ofstream out(store.file(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto loaded = store.load();
  if (!loaded) {
    FUZZ_CHECK(!loaded.error().message.empty());
    std::filesystem::remove(store.file());
    return 0;
  }
  FUZZ_CHECK(loaded->data.is_object());
  FUZZ_CHECK(loaded->moved_aside.has_value() == !loaded->problem.empty());
  if (loaded->moved_aside) std::filesystem::remove(*loaded->moved_aside);
  // As the daemon does at start: each part restores its member, when there is one.
  const auto& data_json = loaded->data;
  updater::Updater updater(*w.loop, w.clock, {}, nullptr, {}, {}, {});
  if (data_json.contains("updater")) updater.restore(data_json["updater"]);
  monitor::Monitor monitor(*w.loop, *w.engine, w.clock, nullptr, {});
  if (data_json.contains("monitor")) monitor.restore(data_json["monitor"]);
  return 0;
}
