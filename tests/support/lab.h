// The DNS lab for integration tests: owns one run of tests/lab/lab.sh (two authoritatives and
// six unbound caches on loopback), reads its interface from lab.env, and stops it on
// destruction. Every command it runs is bounded by a timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.h"

namespace ddnswatch::testing {

/// The first executable called `name` in the folders of $PATH, or an empty path.
std::filesystem::path find_program(const std::string& name);

class Lab {
 public:
  /// Runs `lab.sh start dir OPTIONS...` (dir must exist and hold no lab; options such as
  /// "--full"). Returns nullptr if the lab did not come up; then `error`, if given, receives
  /// the script's stderr. A test must fail then.
  static std::unique_ptr<Lab> start(const std::filesystem::path& dir, std::string* error = nullptr,
                                    const std::vector<std::string>& options = {});
  ~Lab();  // runs `lab.sh stop dir`
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  /// A value from lab.env, such as get("LAB_FAST"); empty if the key is absent.
  std::string get(const std::string& key) const;
  uint16_t auth_port() const;
  uint16_t cache_port() const;

  /// Replaces the RRset name/type at auth1 with one record, signed with the lab's TSIG key.
  /// On failure, last_error() says why.
  bool update(const std::string& name, const std::string& type, const std::string& address,
              int ttl = 5);
  const std::string& last_error() const { return last_error_; }
  /// The public address the full lab's echo service reports from now on (`lab.sh ip`).
  bool set_ip(const std::string& address);

  /// Stops one server of the lab (auth1, auth2, fast, slow15, ...): its address and port go
  /// unanswered until resume(). On failure, last_error() says why.
  bool pause(const std::string& server);
  /// Starts a paused server again on the same address and port. A cache can come back with a
  /// fault: `mode` "refuse" answers REFUSED for the zone, "servfail" SERVFAIL.
  bool resume(const std::string& server, const std::string& mode = "");

  /// The config's "resolvers" section for the lab: the caches as custom resolvers (ids fast,
  /// slow15, slow30, split, servfail, drop, dead; operator "lab"; geo L1..L7), fast as the
  /// bootstrap, the authoritative servers' port, and a 1 s timeout with one try.
  nlohmann::json resolvers_section() const;
  /// A config "records" entry for `name` (type A, TTL 5) at auth1 through the rfc2136
  /// provider, signed with the lab's TSIG key.
  nlohmann::json rfc2136_record(const std::string& name) const;
  /// "ADDRESS:PORT" of a lab resolver by its id above.
  std::string endpoint(const std::string& id) const;

  /// Runs dig (found on $PATH) with `args`; the run is bounded by `timeout`.
  RunResult dig(std::vector<std::string> args,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  Lab(std::filesystem::path dir, std::map<std::string, std::string> env)
      : dir_(std::move(dir)), env_(std::move(env)) {}
  /// Runs lab.sh with `args` (the command first); sets last_error_.
  bool run(std::vector<std::string> args);

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
  std::string last_error_;
};

}  // namespace ddnswatch::testing
