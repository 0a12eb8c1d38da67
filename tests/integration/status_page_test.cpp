// The status page at "/" in a real browser: the daemon watches a name of the DNS lab at a
// matching cache, a cache that answers a foreign address (split brain), a failing cache and the
// authoritative servers; headless Chromium loads the page, lets its script fetch /status and
// dumps the DOM, in which each cell of the resolver x name matrix must show the verdict the
// monitor reached and the SPLIT-BRAIN badge must be there. Chromium is a test dependency
// (scripts/install-deps.sh installs it); without it the test fails, it never skips.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "support/http_get.h"
#include "support/lab_fixture.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kChromium = "/usr/bin/chromium";

// The attributes of every <td ...> start tag in `dom`, as name -> value (values as serialized,
// so with HTML entities; the ones the test compares have none).
std::vector<std::map<std::string, std::string>> td_tags(const std::string& dom) {
  std::vector<std::map<std::string, std::string>> cells;
  static const std::regex kAttribute(R"re(([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)")re");
  for (size_t pos = dom.find("<td"); pos != std::string::npos; pos = dom.find("<td", pos + 1)) {
    if (pos + 3 >= dom.size() || (dom[pos + 3] != ' ' && dom[pos + 3] != '>')) continue;
    // The tag ends at the first '>' outside a quoted attribute value.
    size_t end = pos;
    bool quoted = false;
    for (; end < dom.size(); ++end) {
      if (dom[end] == '"') quoted = !quoted;
      if (dom[end] == '>' && !quoted) break;
    }
    const std::string tag = dom.substr(pos, end - pos);
    std::map<std::string, std::string> attrs;
    for (std::sregex_iterator it(tag.begin(), tag.end(), kAttribute), last; it != last; ++it) {
      attrs[(*it)[1]] = (*it)[2];
    }
    attrs["#text-after"] = dom.substr(end + 1, 200);
    cells.push_back(std::move(attrs));
  }
  return cells;
}

// The class attribute and the markup right after the start tag of the cell for a resolver and
// a "NAME QTYPE", or nullopt if the DOM has no such cell.
std::optional<std::map<std::string, std::string>> cell(const std::string& dom,
                                                       const std::string& resolver,
                                                       const std::string& name) {
  for (auto& attrs : td_tags(dom)) {
    if (attrs["data-resolver"] == resolver && attrs["data-name"] == name) return attrs;
  }
  return std::nullopt;
}

class StatusPageTest : public testing::LabDaemonFixture {};

TEST_F(StatusPageTest, BrowserRendersVerdictMatrixAndSplitBrainBadge) {
  ASSERT_TRUE(std::filesystem::exists(kChromium))
      << kChromium << " is missing: run scripts/install-deps.sh (it installs chromium)";

  const std::string name = "host7.ddnswatch.test";
  const std::string column = name + " A";
  auto daemon =
      start(config(json::array({{{"name", name},
                                 {"type", "A"},
                                 {"expect", "authoritative"},
                                 {"resolvers", {"fast", "split", "servfail", "authoritative"}},
                                 {"interval", "1s"}}})));

  // The monitor's own verdicts first, so that a wrong cell below is the page's fault.
  const std::map<std::string, std::string> expected = {{"fast", "match"},
                                                       {"split", "foreign"},
                                                       {"servfail", "error"},
                                                       {"auth:ns1.ddnswatch.test", "match"}};
  std::string status;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        status = testing::http_get(url("/status")).body;
        const json doc = json::parse(status, nullptr, /*allow_exceptions=*/false);
        if (!doc.is_object() || !doc.contains("names") || doc["names"].size() != 1) return false;
        const json& n = doc["names"][0];
        if (!n.contains("summary") || !n["summary"].value("split_brain", false)) return false;
        std::map<std::string, std::string> seen;
        for (const json& r : n["resolvers"]) {
          seen[r.value("resolver", "")] = r.value("verdict", "");
        }
        for (const auto& [resolver, verdict] : expected) {
          if (seen[resolver] != verdict) return false;
        }
        return true;
      },
      seconds(20)))
      << "/status never showed every resolver checked:\n"
      << status << "\n"
      << daemon->err();

  const auto started = std::chrono::steady_clock::now();
  const testing::RunResult browser = testing::run_command(
      {kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
       "--user-data-dir=" + (dir_.path() / "chromium-profile").string(),
       "--virtual-time-budget=5000", "--dump-dom", url("/")},
      dir_.path(), seconds(60));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("chromium dumped the DOM in %.1f s\n", took);
  ASSERT_EQ(browser.code, 0) << "chromium failed:\n" << browser.err;
  const std::string& dom = browser.out;

  for (const auto& [resolver, verdict] : expected) {
    auto c = cell(dom, resolver, column);
    ASSERT_TRUE(c) << "no cell for " << resolver << " / " << column << " in:\n" << dom;
    EXPECT_THAT((*c)["class"], HasSubstr("verdict-" + verdict)) << resolver;
    EXPECT_THAT((*c)["#text-after"], HasSubstr(">" + verdict + "<")) << resolver;
    EXPECT_THAT((*c)["title"], HasSubstr("TTL")) << resolver;
  }
  EXPECT_THAT(dom, HasSubstr(">SPLIT-BRAIN<"));
  // (The script's source is in the DOM too, so these look for the rendered elements.)
  EXPECT_THAT(dom, Not(HasSubstr("class=\"muted waiting\"")));
  EXPECT_THAT(dom, HasSubstr("<p id=\"error\" hidden=\"\"></p>"));
}

}  // namespace
}  // namespace ddnswatch
