#include "support/lab.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "core/atomic_file.h"

namespace ddnswatch::testing {
namespace {

constexpr std::chrono::seconds kScriptTimeout{20};

std::map<std::string, std::string> parse_env(const std::string& text) {
  std::map<std::string, std::string> env;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

RunResult run_script(std::vector<std::string> args, const std::filesystem::path& dir) {
  args.insert(args.begin(), LAB_SCRIPT);
  return run_command(std::move(args), dir, kScriptTimeout);
}

uint16_t to_port(const std::string& value) {
  int port = std::atoi(value.c_str());
  return port > 0 && port < 65536 ? static_cast<uint16_t>(port) : 0;
}

}  // namespace

std::filesystem::path find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream folders(path ? path : "");
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    if (folder.empty()) continue;
    std::filesystem::path candidate = std::filesystem::path(folder) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::unique_ptr<Lab> Lab::start(const std::filesystem::path& dir, std::string* error,
                                const std::vector<std::string>& options) {
  std::vector<std::string> args = {"start", dir.string()};
  args.insert(args.end(), options.begin(), options.end());
  RunResult r = run_script(std::move(args), dir);
  std::string problem;
  std::map<std::string, std::string> env;
  if (r.code != 0) {
    problem = "lab.sh start exited with " + std::to_string(r.code) + ":\n" + r.err;
  } else {
    auto text = read_file(dir / "lab.env");
    if (text) env = parse_env(*text);
    if (env.empty()) problem = "lab.sh start wrote no lab.env:\n" + r.err;
  }
  if (!problem.empty()) {
    // A start killed by the timeout leaves servers and pid files behind.
    run_script({"stop", dir.string()}, dir);
    std::cerr << problem;
    if (error) *error = problem;
    return nullptr;
  }
  return std::unique_ptr<Lab>(new Lab(dir, std::move(env)));
}

Lab::~Lab() {
  RunResult r = run_script({"stop", dir_.string()}, dir_);
  if (r.code != 0) std::cerr << "lab.sh stop exited with " << r.code << ":\n" << r.err;
}

std::string Lab::get(const std::string& key) const {
  auto it = env_.find(key);
  return it == env_.end() ? "" : it->second;
}

uint16_t Lab::auth_port() const { return to_port(get("LAB_AUTH_PORT")); }

uint16_t Lab::cache_port() const { return to_port(get("LAB_CACHE_PORT")); }

bool Lab::update(const std::string& name, const std::string& type, const std::string& address,
                 int ttl) {
  return run({"update", dir_.string(), name, type, address, std::to_string(ttl)});
}

bool Lab::pause(const std::string& server) { return run({"pause", dir_.string(), server}); }

bool Lab::resume(const std::string& server, const std::string& mode) {
  std::vector<std::string> args = {"resume", dir_.string(), server};
  if (!mode.empty()) args.push_back(mode);
  return run(std::move(args));
}

bool Lab::run(std::vector<std::string> args) {
  const std::string command = args.front();
  RunResult r = run_script(std::move(args), dir_);
  last_error_ = r.code == 0 ? ""
                            : "lab.sh " + command + " exited with " + std::to_string(r.code) +
                                  ":\n" + r.out + r.err;
  return r.code == 0;
}

bool Lab::set_ip(const std::string& address) { return run({"ip", dir_.string(), address}); }

RunResult Lab::dig(std::vector<std::string> args, std::chrono::milliseconds timeout) const {
  std::filesystem::path program = find_program("dig");
  if (program.empty()) return RunResult{-1, "", "dig not found on PATH"};
  args.insert(args.begin(), program.string());
  return run_command(std::move(args), dir_, timeout);
}

namespace {

// The lab's caches: id, the lab.env key of its address.
const std::pair<const char*, const char*> kLabResolvers[] = {
    {"fast", "LAB_FAST"},   {"slow15", "LAB_SLOW15"},     {"slow30", "LAB_SLOW30"},
    {"split", "LAB_SPLIT"}, {"servfail", "LAB_SERVFAIL"}, {"drop", "LAB_DROP"},
    {"dead", "LAB_DEAD"}};

}  // namespace

std::string Lab::endpoint(const std::string& id) const {
  for (const auto& [name, key] : kLabResolvers) {
    if (id == name) return get(key) + ":" + std::to_string(cache_port());
  }
  return "";
}

nlohmann::json Lab::rfc2136_record(const std::string& name) const {
  return {{"name", name},
          {"type", "A"},
          {"ttl", 5},
          {"provider",
           {{"kind", "rfc2136"},
            {"zone", "ddnswatch.test"},
            {"server", "127.0.0.1:" + std::to_string(auth_port())},
            {"key_name", get("LAB_KEY_NAME")},
            {"key_algorithm", get("LAB_KEY_ALGORITHM")},
            {"key_secret", get("LAB_KEY_SECRET")}}}};
}

nlohmann::json Lab::resolvers_section() const {
  nlohmann::json custom = nlohmann::json::array();
  int n = 1;
  for (const auto& [name, key] : kLabResolvers) {
    custom.push_back({{"id", name},
                      {"address", endpoint(name)},
                      {"operator", "lab"},
                      {"geo", "L" + std::to_string(n++)}});
  }
  return {{"custom", custom},
          {"bootstrap", "fast"},
          {"authoritative_port", auth_port()},
          {"timeout", "1s"},
          {"tries", 1}};
}

}  // namespace ddnswatch::testing
