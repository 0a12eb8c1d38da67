#include "support/metrics_text.h"

#include <sstream>

namespace ddnswatch::testing {
namespace {

// Parses `{a="x",b="y"}` (values without escaped quotes, as ours are) into a map.
std::map<std::string, std::string> parse_labels(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eq = text.find("=\"", pos);
    if (eq == std::string::npos) break;
    size_t end = text.find('"', eq + 2);
    if (end == std::string::npos) break;
    out[text.substr(pos, eq - pos)] = text.substr(eq + 2, end - eq - 2);
    pos = end + 1;
    if (pos < text.size() && text[pos] == ',') ++pos;
  }
  return out;
}

}  // namespace

std::optional<double> metric_value(const std::string& exposition, const std::string& name,
                                   const std::map<std::string, std::string>& labels) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    std::map<std::string, std::string> have;
    size_t value_at = 0;
    if (next == '{') {
      size_t close = line.find("} ", name.size());
      if (close == std::string::npos) continue;
      have = parse_labels(line.substr(name.size() + 1, close - name.size() - 1));
      value_at = close + 2;
    } else if (next == ' ') {
      value_at = name.size() + 1;
    } else {
      continue;
    }
    bool all = true;
    for (const auto& [k, v] : labels) {
      auto it = have.find(k);
      if (it == have.end() || it->second != v) {
        all = false;
        break;
      }
    }
    if (!all) continue;
    try {
      return std::stod(line.substr(value_at));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace ddnswatch::testing
