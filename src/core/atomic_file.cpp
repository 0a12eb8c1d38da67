#include "core/atomic_file.h"

#include <fmt/format.h>

#ifdef _WIN32
#include <windows.h>

#include "core/win32.h"
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ddnswatch {
namespace {

tl::unexpected<Error> io_error(const std::string& what, const std::filesystem::path& path,
                               int err) {
  return make_error(ErrorCode::kIo,
                    fmt::format("{} {}: {}", what, path.string(), std::strerror(err)));
}

#ifndef _WIN32
// Closes a file descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release_and_close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

#endif

}  // namespace

#ifdef _WIN32

// The same steps with Windows' calls: FlushFileBuffers is the fsync, and MoveFileEx with
// MOVEFILE_WRITE_THROUGH returns only once the rename is on disk (folders cannot be flushed).
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  const std::filesystem::path tmp =
      dir / fmt::format(".{}.tmp.{}", path.filename().string(), GetCurrentProcessId());
  auto fail = [&](const std::string& what, const std::filesystem::path& p, DWORD err) {
    DeleteFileW(tmp.c_str());
    return make_error(ErrorCode::kIo,
                      fmt::format("{} {}: {}", what, p.string(), win32::error_text(err)));
  };
  HANDLE file = CreateFileW(tmp.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                            FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) {
    return make_error(ErrorCode::kIo, fmt::format("cannot create {}: {}", tmp.string(),
                                                  win32::error_text(GetLastError())));
  }
  const char* data = content.data();
  size_t left = content.size();
  while (left > 0) {
    DWORD written = 0;
    const auto chunk = static_cast<DWORD>(std::min<size_t>(left, 1u << 30));
    if (!WriteFile(file, data, chunk, &written, nullptr)) {
      const DWORD err = GetLastError();
      CloseHandle(file);
      return fail("cannot write", tmp, err);
    }
    data += written;
    left -= written;
  }
  if (!FlushFileBuffers(file)) {
    const DWORD err = GetLastError();
    CloseHandle(file);
    return fail("cannot flush", tmp, err);
  }
  if (!CloseHandle(file)) return fail("cannot close", tmp, GetLastError());
  if (!MoveFileExW(tmp.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return fail("cannot rename to", path, GetLastError());
  }
  return {};
}

#else

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::filesystem::path tmp =
      dir / fmt::format(".{}.tmp.{}", path.filename().string(), static_cast<long>(::getpid()));

  auto fail = [&](const std::string& what, const std::filesystem::path& p, int err) {
    ::unlink(tmp.c_str());
    return io_error(what, p, err);
  };

  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) return io_error("cannot create", tmp, errno);
  const char* data = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write", tmp, errno);
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail("cannot fsync", tmp, errno);
  if (fd.release_and_close() != 0) return fail("cannot close", tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot rename to", path, errno);

  // The rename is durable only once the folder's entry is on disk.
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) return io_error("cannot open folder", dir, errno);
  if (::fsync(dir_fd.get()) != 0) return io_error("cannot fsync folder", dir, errno);
  return {};
}

#endif

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    if (err == ENOENT) {
      return make_error(ErrorCode::kNotFound, fmt::format("{}: no such file", path.string()));
    }
    return io_error("cannot read", path, err);
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return io_error("cannot read", path, errno);
  return std::move(out).str();
}

}  // namespace ddnswatch
