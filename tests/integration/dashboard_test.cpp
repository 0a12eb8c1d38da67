// The shipped monitoring assets against a real Prometheus: the daemon watches a name in the
// DNS lab, Prometheus scrapes it every second with the alert rules of
// dashboards/prometheus/alerts.yml loaded, and every query of the Grafana dashboard
// dashboards/grafana/ddnswatch.json (panels and annotations, with the template variables
// filled in as Grafana does for "All") must parse and evaluate, and every panel must return
// data: the daemon also updates a record at the lab's BIND, so the updater's series exist.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "support/http_get.h"
#include "support/lab.h"
#include "support/lab_fixture.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

const std::filesystem::path kDashboard =
    std::filesystem::path(SOURCE_DIR) / "dashboards/grafana/ddnswatch.json";
const std::filesystem::path kAlerts =
    std::filesystem::path(SOURCE_DIR) / "dashboards/prometheus/alerts.yml";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

json load_dashboard() {
  json doc = json::parse(read_file(kDashboard), nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(doc.is_discarded()) << kDashboard << " is not valid JSON";
  return doc;
}

// The names of the alerts in alerts.yml (lines "- alert: NAME").
std::set<std::string> alert_names() {
  std::set<std::string> names;
  const std::string text = read_file(kAlerts);
  const std::regex line(R"(-\s+alert:\s*([A-Za-z0-9_]+))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), line); it != std::sregex_iterator();
       ++it) {
    names.insert((*it)[1].str());
  }
  return names;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// A dashboard expression as Grafana sends it with every variable at "All".
std::string substitute(std::string expr) {
  for (const char* var : {"$name", "$resolver", "$geo"}) replace_all(expr, var, ".*");
  replace_all(expr, "$__rate_interval", "1m");
  replace_all(expr, "$__interval", "15s");
  return expr;
}

struct Query {
  std::string where;  // "panel 'TITLE'" or "annotation 'NAME'"
  std::string expr;   // substituted
  bool must_have_data = false;
};

// Every expression of the dashboard; every panel must return data.
std::vector<Query> dashboard_queries(const json& dashboard) {
  std::vector<Query> queries;
  for (const auto& panel : dashboard.value("panels", json::array())) {
    for (const auto& target : panel.value("targets", json::array())) {
      if (!target.contains("expr")) continue;
      const std::string expr = target["expr"].get<std::string>();
      queries.push_back({"panel '" + panel.value("title", "") + "'", substitute(expr), true});
    }
  }
  for (const auto& annotation :
       dashboard.value(json::json_pointer("/annotations/list"), json::array())) {
    if (!annotation.contains("expr")) continue;
    queries.push_back({"annotation '" + annotation.value("name", "") + "'",
                       substitute(annotation["expr"].get<std::string>()), false});
  }
  return queries;
}

// The dashboard is importable and wired to its variables, without any server.
TEST(DashboardJsonTest, IsImportableAndUsesTheDatasourceVariable) {
  const json d = load_dashboard();
  ASSERT_TRUE(d.is_object());
  EXPECT_GE(d.value("schemaVersion", 0), 36);
  ASSERT_TRUE(d.contains("__inputs"));
  EXPECT_EQ(d["__inputs"][0]["name"], "DS_PROMETHEUS");
  EXPECT_EQ(d["__inputs"][0]["pluginId"], "prometheus");

  std::map<std::string, json> vars;
  for (const auto& v : d.value(json::json_pointer("/templating/list"), json::array()))
    vars[v["name"].get<std::string>()] = v;
  ASSERT_TRUE(vars.count("datasource"));
  EXPECT_EQ(vars["datasource"]["type"], "datasource");
  EXPECT_EQ(vars["datasource"]["query"], "prometheus");
  const std::map<std::string, std::string> queries = {
      {"name", "label_values(ddnswatch_dns_answer_state, name)"},
      {"resolver", "label_values(ddnswatch_resolver_info, resolver)"},
      {"geo", "label_values(ddnswatch_resolver_info, geo)"}};
  for (const auto& [name, query] : queries) {
    ASSERT_TRUE(vars.count(name)) << name;
    EXPECT_EQ(vars[name]["query"], query) << name;
    EXPECT_EQ(vars[name]["multi"], true) << name;
    EXPECT_EQ(vars[name]["includeAll"], true) << name;
    EXPECT_EQ(vars[name]["datasource"]["uid"], "${datasource}") << name;
  }

  ASSERT_FALSE(d.value("panels", json::array()).empty());
  for (const auto& panel : d["panels"]) {
    const std::string title = panel.value("title", "");
    EXPECT_EQ(panel.value(json::json_pointer("/datasource/uid"), ""), "${datasource}") << title;
    ASSERT_FALSE(panel.value("targets", json::array()).empty()) << title;
    for (const auto& target : panel["targets"]) {
      EXPECT_EQ(target.value(json::json_pointer("/datasource/uid"), ""), "${datasource}") << title;
    }
  }
}

class DashboardTest : public testing::LabDaemonFixture {
 protected:
  std::string prometheus_api(const std::string& path_and_query) const {
    return "http://127.0.0.1:" + std::to_string(prometheus_port_) + "/api/v1/" + path_and_query;
  }
  json api_get(const std::string& path_and_query) const {
    auto r = testing::http_get(prometheus_api(path_and_query));
    if (r.status == 0) return json::object();
    json doc = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    return doc.is_object() ? doc : json::object();
  }

  uint16_t prometheus_port_ = testing::free_port();
};

TEST_F(DashboardTest, AlertRulesLoadAndEveryDashboardQueryEvaluatesInPrometheus) {
  std::filesystem::path prometheus = "/usr/bin/prometheus";
  if (!std::filesystem::exists(prometheus)) prometheus = testing::find_program("prometheus");
  ASSERT_FALSE(prometheus.empty())
      << "prometheus is not installed: run scripts/install-deps.sh (Debian package prometheus)";
  const json dashboard = load_dashboard();
  ASSERT_TRUE(dashboard.is_object());
  const std::set<std::string> alerts = alert_names();
  ASSERT_FALSE(alerts.empty()) << "no alert rules found in " << kAlerts;

  // Prometheus first: its first scrape comes ~5.5 s after it starts.
  const std::string prometheus_yml =
      "global:\n"
      "  scrape_interval: 1s\n"
      "  evaluation_interval: 1s\n"
      "rule_files:\n"
      "  - \"" +
      kAlerts.string() +
      "\"\n"
      "scrape_configs:\n"
      "  - job_name: ddnswatch\n"
      "    static_configs:\n"
      "      - targets: [\"127.0.0.1:" +
      std::to_string(port_) + "\"]\n";
  const auto prometheus_config = dir_.write("prometheus.yml", prometheus_yml);
  std::filesystem::create_directories(dir_.path() / "tsdb");
  testing::Process prom({prometheus.string(), "--config.file=" + prometheus_config.string(),
                         "--storage.tsdb.path=" + (dir_.path() / "tsdb").string(),
                         "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_),
                         "--web.enable-lifecycle"},
                        dir_.path());

  // The monitor, and the updater with one record at the lab's BIND, so that every panel has
  // series behind it.
  json cfg = config(json::array({{{"name", "host8.ddnswatch.test"},
                                  {"type", "A"},
                                  {"expect", "record"},
                                  {"resolvers", {"fast", "split", "servfail", "authoritative"}},
                                  {"interval", "1s"}}}));
  cfg["detect"] = {{"interval", "10s"},
                   {"allow", {"192.0.2.0/24"}},
                   {"ipv4", {{"sources", {"static:192.0.2.8"}}}}};
  cfg["records"] = json::array({lab_->rfc2136_record("host8.ddnswatch.test")});
  auto daemon = start(cfg);
  ASSERT_FALSE(HasFailure()) << "the daemon did not come up";

  json targets;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        targets = api_get("targets");
        for (const auto& t :
             targets.value(json::json_pointer("/data/activeTargets"), json::array())) {
          if (t.value("health", "") == "up") return true;
        }
        return false;
      },
      seconds(30)))
      << "Prometheus never scraped the daemon: " << targets.dump() << "\n"
      << prom.err();

  // (a) Every alert of alerts.yml is loaded and evaluates (health "ok" after the first
  // evaluation, "unknown" before, "err" if the expression fails).
  json rules;
  std::map<std::string, std::string> health;
  testing::wait_until(
      [&] {
        rules = api_get("rules?type=alert");
        health.clear();
        for (const auto& group : rules.value(json::json_pointer("/data/groups"), json::array())) {
          for (const auto& rule : group.value("rules", json::array())) {
            health[rule.value("name", "")] = rule.value("health", "");
          }
        }
        for (const auto& name : alerts) {
          if (health[name] != "ok") return false;
        }
        return true;
      },
      seconds(15));
  for (const auto& name : alerts) {
    EXPECT_EQ(health[name], "ok") << name << ": " << rules.dump();
  }

  // (b) Every dashboard expression parses and evaluates; monitor panels return data.
  const std::vector<Query> queries = dashboard_queries(dashboard);
  ASSERT_GE(queries.size(), 10u);
  std::map<std::string, json> last;  // by expression
  std::set<std::string> waiting;
  for (const auto& q : queries) {
    const json r = api_get("query?query=" + percent_encode(q.expr));
    last[q.expr] = r;
    EXPECT_EQ(r.value("status", ""), "success") << q.where << ": " << q.expr << "\n" << r.dump();
    if (q.must_have_data) waiting.insert(q.expr);
  }
  testing::wait_until(
      [&] {
        for (auto it = waiting.begin(); it != waiting.end();) {
          const json r = api_get("query?query=" + percent_encode(*it));
          last[*it] = r;
          if (r.value("status", "") == "success" &&
              !r.value(json::json_pointer("/data/result"), json::array()).empty()) {
            it = waiting.erase(it);
          } else {
            ++it;
          }
        }
        return waiting.empty();
      },
      seconds(30));
  for (const auto& q : queries) {
    if (waiting.count(q.expr) != 0) {
      ADD_FAILURE() << q.where << " returned no data: " << q.expr << "\n" << last[q.expr].dump();
    }
  }

  // The state matrix carries each resolver's verdict and its geo (joined from resolver_info);
  // the zone's servers show up as auth:NS with geo "authoritative".
  const std::string matrix =
      substitute(dashboard["panels"][0]["targets"][0]["expr"].get<std::string>());
  std::map<std::string, std::string> cells;  // resolver -> "state geo"
  json result;
  testing::wait_until(
      [&] {
        result = api_get("query?query=" + percent_encode(matrix));
        cells.clear();
        for (const auto& s : result.value(json::json_pointer("/data/result"), json::array())) {
          const json& m = s["metric"];
          cells[m.value("resolver", "")] = m.value("state", "") + " " + m.value("geo", "");
        }
        return cells["fast"] == "match L1" && cells["split"] == "foreign L4" &&
               cells["servfail"] == "error L5" &&
               cells["auth:ns1.ddnswatch.test"] == "match authoritative";
      },
      seconds(15));
  EXPECT_EQ(cells["fast"], "match L1") << result.dump();
  EXPECT_EQ(cells["split"], "foreign L4") << result.dump();
  EXPECT_EQ(cells["servfail"], "error L5") << result.dump();
  EXPECT_EQ(cells["auth:ns1.ddnswatch.test"], "match authoritative") << result.dump();

  // Stop both by PID.
  prom.signal(SIGTERM);
  daemon->signal(SIGTERM);
  EXPECT_TRUE(prom.wait(seconds(10)).has_value()) << prom.err();
  EXPECT_EQ(daemon->wait(seconds(10)).value_or(-1), 0) << daemon->err();
}

}  // namespace
}  // namespace ddnswatch
