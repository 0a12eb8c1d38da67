// What one detection found: every source's answer, the address the sources agree on (if they
// agree enough), and a one-line verdict for people. decide() is the pure quorum rule.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "ipdetect/address.h"

namespace ddnswatch::ipdetect {

struct SourceAnswer {
  std::string source;                  // as written in the config: the metric label
  std::optional<std::string> address;  // canonical, of the family, not a bogon (or allowed)
  std::string error;                   // why there is no address, in plain words
  Duration elapsed{};
  bool skipped = false;  // backing off: not asked this time (error says until when and why)
};

struct Detection {
  Family family = Family::kIpv4;
  /// Set only when at least `quorum` sources gave it and no other address got as many.
  std::optional<std::string> address;
  int agreeing = 0;  // sources that gave `address`; 0 when no address is trusted
  int answered = 0;  // sources that gave a usable address
  int quorum = 1;
  std::vector<SourceAnswer> answers;  // in the config's order
  /// One line: "ipv4: 198.51.100.7 (3 of 3 sources agree, quorum 2)" or
  /// "ipv4: no address trusted: 2 sources say 198.51.100.7, 1 says 203.0.113.5, quorum 3".
  std::string verdict;
};

/// The quorum rule: the most common address is trusted when at least `quorum` sources gave it
/// and no different address was given as often (a tie is never trusted).
Detection decide(Family family, std::vector<SourceAnswer> answers, int quorum);

}  // namespace ddnswatch::ipdetect
