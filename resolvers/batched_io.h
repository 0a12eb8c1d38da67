// c-ares socket functions that read UDP answers in batches. c-ares 1.18 reads a readable UDP
// socket with one recvfrom per answer until EAGAIN; on Linux these functions fetch up to
// kSlots answers with one recvmmsg and hand them to c-ares one by one. Sockets, connects,
// sends and TCP reads stay one system call each, as c-ares makes them itself.
#pragma once

#include <ares.h>

#include <memory>

namespace ddnswatch::resolvers {

/// One per DNS engine, used on its loop thread only, for every channel of the engine. The
/// batch belongs to one socket at a time: c-ares reads a socket until it would block before
/// it reads another, and a socket closed with answers still in the batch drops them.
class BatchedIo {
 public:
  BatchedIo();
  ~BatchedIo();
  BatchedIo(const BatchedIo&) = delete;
  BatchedIo& operator=(const BatchedIo&) = delete;

  /// Gives `channel` these socket functions where the system has recvmmsg (Linux); elsewhere
  /// the channel keeps c-ares's own.
  void attach(ares_channel channel);

  /// Answers read with recvmmsg, and the recvmmsg calls that returned at least one: their
  /// ratio is the batch size (checked by the unit tests).
  struct Counts {
    unsigned long long answers = 0;
    unsigned long long batches = 0;
  };
  Counts counts() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace ddnswatch::resolvers
