#include "core/event_loop.h"

#include <spdlog/spdlog.h>
#include <uv.h>

#include <atomic>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace ddnswatch {
namespace {

// Callbacks come from C: nothing may escape them.
void run_guarded(const std::function<void()>& fn, const char* what) noexcept {
  try {
    fn();
  } catch (const std::exception& e) {
    spdlog::error("unhandled exception in {}: {}", what, e.what());
  } catch (...) {
    spdlog::error("unhandled exception in {}", what);
  }
}

}  // namespace

struct Timer::Handle {
  uv_timer_t timer{};
  std::function<void()> callback;
};

Timer::~Timer() {
  uv_timer_stop(&handle_->timer);
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->timer),
           [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

void Timer::start(Duration timeout, Duration repeat) {
  uv_timer_start(
      &handle_->timer,
      [](uv_timer_t* t) {
        auto* handle = static_cast<Handle*>(t->data);
        run_guarded(handle->callback, "timer");
      },
      static_cast<uint64_t>(std::max<int64_t>(0, timeout.count())),
      static_cast<uint64_t>(std::max<int64_t>(0, repeat.count())));
}

void Timer::stop() { uv_timer_stop(&handle_->timer); }

bool Timer::active() const {
  return uv_is_active(reinterpret_cast<const uv_handle_t*>(&handle_->timer)) != 0;
}

struct FolderWatch::Handle {
  uv_fs_event_t event{};
  std::function<void()> callback;
};

FolderWatch::~FolderWatch() {
  uv_fs_event_stop(&handle_->event);
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->event),
           [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

struct SignalHandle {
  uv_signal_t signal{};
  std::function<void()> callback;
};

struct EventLoop::Impl {
  uv_loop_t loop{};
  uv_async_t wakeup{};
  std::mutex mutex;
  std::deque<std::function<void()>> queue;  // guarded by mutex
  bool stop_requested = false;              // guarded by mutex
  std::atomic<std::thread::id> loop_thread{};
  std::vector<SignalHandle*> signals;  // closed with the loop

  void drain() {
    for (;;) {
      std::deque<std::function<void()>> batch;
      bool stop = false;
      {
        std::lock_guard lock(mutex);
        batch.swap(queue);
        stop = stop_requested;
      }
      if (batch.empty()) {
        if (stop) uv_stop(&loop);
        return;
      }
      for (auto& fn : batch) run_guarded(fn, "posted task");
    }
  }
};

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  auto impl = std::make_unique<Impl>();
  if (int rc = uv_loop_init(&impl->loop); rc != 0) {
    return make_error(ErrorCode::kInternal, std::string("uv_loop_init: ") + uv_strerror(rc));
  }
  impl->loop.data = impl.get();
  if (int rc = uv_async_init(&impl->loop, &impl->wakeup,
                             [](uv_async_t* a) { static_cast<Impl*>(a->data)->drain(); });
      rc != 0) {
    uv_loop_close(&impl->loop);
    return make_error(ErrorCode::kInternal, std::string("uv_async_init: ") + uv_strerror(rc));
  }
  impl->wakeup.data = impl.get();
  return std::unique_ptr<EventLoop>(new EventLoop(std::move(impl)));
}

EventLoop::EventLoop(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventLoop::~EventLoop() {
  // Close whatever is still open (the wakeup handle, signal handlers, anything an owner
  // forgot), let libuv deliver the close callbacks, then close the loop.
  uv_walk(
      &impl_->loop,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(&impl_->loop, UV_RUN_DEFAULT);
  for (SignalHandle* s : impl_->signals) delete s;
  uv_loop_close(&impl_->loop);
}

void EventLoop::run() {
  impl_->loop_thread = std::this_thread::get_id();
  {
    std::lock_guard lock(impl_->mutex);
    // A stop() that arrived before run() still counts; a previous run's does not linger.
    if (impl_->stop_requested && impl_->queue.empty()) {
      impl_->stop_requested = false;
      impl_->loop_thread = std::thread::id{};
      return;
    }
  }
  uv_run(&impl_->loop, UV_RUN_DEFAULT);
  std::lock_guard lock(impl_->mutex);
  impl_->stop_requested = false;
  impl_->loop_thread = std::thread::id{};
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->queue.push_back(std::move(fn));
  }
  uv_async_send(&impl_->wakeup);
}

void EventLoop::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = true;
  }
  uv_async_send(&impl_->wakeup);
}

std::unique_ptr<Timer> EventLoop::make_timer(std::function<void()> callback) {
  auto* handle = new Timer::Handle();
  handle->callback = std::move(callback);
  uv_timer_init(&impl_->loop, &handle->timer);
  handle->timer.data = handle;
  // Timers must not keep run() alive after stop(); uv_stop handles that, so stay referenced.
  return std::unique_ptr<Timer>(new Timer(handle));
}

Result<void> EventLoop::on_signal(int signum, std::function<void()> callback) {
  auto* handle = new SignalHandle();
  handle->callback = std::move(callback);
  uv_signal_init(&impl_->loop, &handle->signal);
  handle->signal.data = handle;
  int rc = uv_signal_start(
      &handle->signal,
      [](uv_signal_t* s, int) {
        run_guarded(static_cast<SignalHandle*>(s->data)->callback, "signal");
      },
      signum);
  impl_->signals.push_back(handle);
  if (rc != 0) {
    return make_error(ErrorCode::kInternal,
                      "cannot handle signal " + std::to_string(signum) + ": " + uv_strerror(rc));
  }
  // Signal handlers alone should not keep the loop running.
  uv_unref(reinterpret_cast<uv_handle_t*>(&handle->signal));
  return {};
}

Result<std::unique_ptr<FolderWatch>> EventLoop::watch_folder(const std::filesystem::path& folder,
                                                             std::function<void()> callback) {
  auto* handle = new FolderWatch::Handle();
  handle->callback = std::move(callback);
  uv_fs_event_init(&impl_->loop, &handle->event);
  handle->event.data = handle;
  std::unique_ptr<FolderWatch> watch(new FolderWatch(handle));
  const std::string path = folder.string();
  int rc = uv_fs_event_start(
      &handle->event,
      [](uv_fs_event_t* e, const char*, int, int status) {
        if (status < 0) return;
        run_guarded(static_cast<FolderWatch::Handle*>(e->data)->callback, "folder watch");
      },
      path.c_str(), 0);
  if (rc != 0) {
    return make_error(ErrorCode::kIo, "cannot watch " + path + " for changes: " + uv_strerror(rc));
  }
  uv_unref(reinterpret_cast<uv_handle_t*>(&handle->event));
  return watch;
}

bool EventLoop::on_loop_thread() const {
  return impl_->loop_thread.load() == std::this_thread::get_id();
}

void* EventLoop::native_handle() { return &impl_->loop; }

}  // namespace ddnswatch
