#include "ipdetect/detection.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace ddnswatch::ipdetect {
namespace {

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace

Detection decide(Family family, std::vector<SourceAnswer> answers, int quorum) {
  Detection d;
  d.family = family;
  d.quorum = quorum;
  // Distinct addresses with their counts, most common first, ties in the config's order.
  std::vector<std::pair<std::string, int>> groups;
  int failed = 0;
  int skipped = 0;
  for (const SourceAnswer& a : answers) {
    if (a.address) {
      ++d.answered;
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const auto& g) { return g.first == *a.address; });
      if (it == groups.end()) {
        groups.emplace_back(*a.address, 1);
      } else {
        ++it->second;
      }
    } else if (a.skipped) {
      ++skipped;
    } else {
      ++failed;
    }
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const auto& x, const auto& y) { return x.second > y.second; });

  std::vector<std::string> missing;
  if (failed > 0) missing.push_back(fmt::format("{} failed", failed));
  if (skipped > 0) missing.push_back(fmt::format("{} skipped", skipped));
  const char* fam = to_string(family);
  const int total = static_cast<int>(answers.size());
  d.answers = std::move(answers);

  if (groups.empty()) {
    d.verdict = fmt::format("{}: no address trusted: no source gave an address", fam);
    if (!missing.empty()) d.verdict += fmt::format(" ({})", join(missing, ", "));
    return d;
  }
  const bool tie = groups.size() > 1 && groups[1].second == groups[0].second;
  if (!tie && groups[0].second >= quorum) {
    d.address = groups[0].first;
    d.agreeing = groups[0].second;
    std::vector<std::string> notes;
    for (size_t i = 1; i < groups.size(); ++i) {
      notes.push_back(fmt::format("{} say{} {}", groups[i].second, groups[i].second == 1 ? "s" : "",
                                  groups[i].first));
    }
    if (!missing.empty()) notes.push_back(join(missing, ", "));
    d.verdict =
        fmt::format("{}: {} ({} of {} source{} agree{}, quorum {}", fam, groups[0].first,
                    d.agreeing, total, total == 1 ? "" : "s", d.agreeing == 1 ? "s" : "", quorum);
    for (const auto& n : notes) d.verdict += "; " + n;
    d.verdict += ")";
    return d;
  }
  std::vector<std::string> said;
  for (size_t i = 0; i < groups.size(); ++i) {
    const int n = groups[i].second;
    said.push_back(fmt::format("{}{} {} {}", n, i == 0 ? (n == 1 ? " source" : " sources") : "",
                               n == 1 ? "says" : "say", groups[i].first));
  }
  d.verdict = fmt::format("{}: no address trusted: {}{}, quorum {}", fam, join(said, ", "),
                          tie ? " (a tie)" : "", quorum);
  if (!missing.empty()) d.verdict += "; " + join(missing, ", ");
  return d;
}

}  // namespace ddnswatch::ipdetect
