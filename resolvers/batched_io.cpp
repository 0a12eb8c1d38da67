#include "resolvers/batched_io.h"

#ifdef __linux__
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#endif

namespace ddnswatch::resolvers {

#ifdef __linux__

struct BatchedIo::State {
  static constexpr unsigned kSlots = 32;
  // c-ares 1.18 reads a UDP answer into MAXENDSSZ + 1 bytes; a longer datagram is cut there,
  // as it was.
  static constexpr size_t kSlotSize = 4097;

  std::unique_ptr<uint8_t[]> buffers;  // kSlots * kSlotSize, from the first read on
  std::array<mmsghdr, kSlots> messages{};
  std::array<iovec, kSlots> vectors{};
  std::array<sockaddr_storage, kSlots> peers{};
  ares_socket_t fd = ARES_SOCKET_BAD;  // the socket whose answers the batch holds
  unsigned count = 0;                  // answers in the batch
  unsigned next = 0;                   // the next one to hand over
  Counts counts;

  void reset() {
    fd = ARES_SOCKET_BAD;
    count = next = 0;
  }

  /// One recvmmsg on `s`: false (errno set) when it read nothing.
  bool fill(ares_socket_t s) {
    if (!buffers) {
      buffers = std::make_unique<uint8_t[]>(kSlots * kSlotSize);
      for (unsigned i = 0; i < kSlots; ++i) {
        vectors[i] = iovec{buffers.get() + i * kSlotSize, kSlotSize};
        msghdr& h = messages[i].msg_hdr;
        h.msg_name = &peers[i];
        h.msg_iov = &vectors[i];
        h.msg_iovlen = 1;
      }
    }
    // The kernel rewrites only each header's address length (and its flags).
    for (mmsghdr& m : messages) m.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    const int n = recvmmsg(s, messages.data(), kSlots, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      if (n == 0) errno = EAGAIN;
      return false;
    }
    fd = s;
    count = static_cast<unsigned>(n);
    next = 0;
    counts.answers += count;
    ++counts.batches;
    return true;
  }
};

namespace {

using State = BatchedIo::State;

ares_socket_t open_socket(int family, int type, int protocol, void* /*user*/) {
  // With socket functions set, c-ares leaves a new socket as it gets it: non-blocking,
  // close-on-exec and (TCP) no Nagle are set here, as c-ares sets them on its own sockets.
  const int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return ARES_SOCKET_BAD;
  if (type == SOCK_STREAM) {
    const int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

int close_socket(ares_socket_t fd, void* user) {
  auto* state = static_cast<State*>(user);
  if (state->fd == fd) state->reset();  // answers left on a closed socket are dropped with it
  return close(fd);
}

int connect_socket(ares_socket_t fd, const sockaddr* address, ares_socklen_t length,
                   void* /*user*/) {
  return connect(fd, address, length);
}

ares_ssize_t receive(ares_socket_t fd, void* data, size_t length, int flags, sockaddr* from,
                     ares_socklen_t* from_length, void* user) {
  // c-ares reads TCP without asking for the peer's address, and UDP without flags.
  if (from == nullptr || flags != 0) return recvfrom(fd, data, length, flags, from, from_length);
  auto* state = static_cast<State*>(user);
  if (state->fd == fd && state->next == state->count) {
    // The batch is handed over. One shorter than kSlots emptied the socket: would block,
    // without asking the kernel again (the poll is level-triggered, so an answer that came
    // since wakes the loop once more).
    const bool emptied = state->count < State::kSlots;
    state->reset();
    if (emptied) {
      errno = EAGAIN;
      return -1;
    }
  }
  // c-ares reads one socket until it would block before it reads another, so a batch of
  // another socket is always handed over or dropped by close_socket before this.
  if (state->fd != fd && !state->fill(fd)) return -1;
  const unsigned i = state->next++;
  const mmsghdr& m = state->messages[i];
  const size_t n = std::min<size_t>(length, m.msg_len);
  std::memcpy(data, state->buffers.get() + i * State::kSlotSize, n);
  const socklen_t peer_length = m.msg_hdr.msg_namelen;
  std::memcpy(from, &state->peers[i], std::min<size_t>(*from_length, peer_length));
  *from_length = peer_length;
  return static_cast<ares_ssize_t>(n);
}

ares_ssize_t send_vector(ares_socket_t fd, const iovec* vectors, int count, void* /*user*/) {
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(vectors);
  message.msg_iovlen = static_cast<size_t>(count);
  return sendmsg(fd, &message, MSG_NOSIGNAL);
}

constexpr ares_socket_functions kFunctions{&open_socket, &close_socket, &connect_socket, &receive,
                                           &send_vector};

}  // namespace

BatchedIo::BatchedIo() : state_(std::make_unique<State>()) {}

void BatchedIo::attach(ares_channel channel) {
  ares_set_socket_functions(channel, &kFunctions, state_.get());
}

BatchedIo::Counts BatchedIo::counts() const { return state_->counts; }

#else

struct BatchedIo::State {};

BatchedIo::BatchedIo() = default;

void BatchedIo::attach(ares_channel /*channel*/) {}

BatchedIo::Counts BatchedIo::counts() const { return {}; }

#endif

BatchedIo::~BatchedIo() = default;

}  // namespace ddnswatch::resolvers
