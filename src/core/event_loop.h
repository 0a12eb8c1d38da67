// The one event loop of the daemon: a libuv loop with timers, signal handlers and a
// thread-safe post(). c-ares, curl and the config watch are driven from it; other threads
// only post work to it.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include "core/clock.h"
#include "core/result.h"

namespace ddnswatch {

class EventLoop;

/// A one-shot or repeating timer on an EventLoop. Loop thread only; must not outlive its loop.
class Timer {
 public:
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  /// (Re)arms the timer: the callback runs after `timeout`, then every `repeat` if non-zero.
  void start(Duration timeout, Duration repeat = Duration::zero());
  void stop();
  bool active() const;

 private:
  friend class EventLoop;
  struct Handle;
  explicit Timer(Handle* handle) : handle_(handle) {}
  Handle* handle_;  // freed by libuv's close callback, not by us
};

/// Watches a folder (libuv fs event: inotify, ReadDirectoryChangesW). Loop thread only; must
/// not outlive its loop. Destroying it stops the watch.
class FolderWatch {
 public:
  ~FolderWatch();
  FolderWatch(const FolderWatch&) = delete;
  FolderWatch& operator=(const FolderWatch&) = delete;

 private:
  friend class EventLoop;
  struct Handle;
  explicit FolderWatch(Handle* handle) : handle_(handle) {}
  Handle* handle_;  // freed by libuv's close callback
};

/// Owns a libuv loop. post() and stop() may be called from any thread; everything else on the
/// loop thread (or before run()).
class EventLoop {
 public:
  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Runs callbacks on the calling thread until stop() is called.
  void run();

  /// Queues `fn` to run on the loop thread. Callbacks run in the order they were posted.
  void post(std::function<void()> fn);

  /// Makes run() return soon; posted work queued before the call still runs.
  void stop();

  std::unique_ptr<Timer> make_timer(std::function<void()> callback);

  /// Calls `callback` on the loop thread each time the process receives `signum`.
  Result<void> on_signal(int signum, std::function<void()> callback);

  /// Calls `callback` on the loop thread whenever something in `folder` changes: a file is
  /// written, renamed into place, or a symlink in it is swapped (as Kubernetes does for a
  /// mounted ConfigMap). Changes come in bursts; callers debounce. Does not keep run() alive.
  Result<std::unique_ptr<FolderWatch>> watch_folder(const std::filesystem::path& folder,
                                                    std::function<void()> callback);

  /// True while called from inside run() on the loop thread.
  bool on_loop_thread() const;

  /// The underlying uv_loop_t*, for modules that integrate c-ares or curl with it.
  void* native_handle();

 private:
  struct Impl;
  explicit EventLoop(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddnswatch
