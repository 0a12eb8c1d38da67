// The command line as a user types it: check, version, help, usage errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/process.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

testing::RunResult ddnswatch(std::vector<std::string> args, const testing::TempDir& dir) {
  args.insert(args.begin(), DDNSWATCH_BINARY);
  return testing::run_command(std::move(args), dir.path());
}

TEST(CheckCliTest, ShippedDefaultConfigIsOk) {
  testing::TempDir dir;
  auto r =
      ddnswatch({"check", "--config", std::string(SOURCE_DIR) + "/config/ddnswatch.json"}, dir);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
}

TEST(CheckCliTest, PrintsEveryErrorWithFileAndPath) {
  testing::TempDir dir;
  auto cfg = dir.write("bad.json", R"({
    "lisen": "127.0.0.1:9877",
    "records": [{"name": "home.example.com", "type": "A",
                 "provider": {"kind": "cloudfare", "zone": "example.com", "token": "x"}}],
    "detect": {"interval": "5"}
  })");
  auto r = ddnswatch({"check", "--config", cfg.string()}, dir);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  const std::string f = cfg.string();
  EXPECT_EQ(r.err,
            f + ": /lisen: unknown key (did you mean \"listen\"?)\n" + f +
                ": /detect/interval: \"5\" is not a duration; write a number and a unit (ms, s, m, "
                "h, d), such as \"30s\", \"5m\" or \"1h30m\"\n" +
                f +
                ": /records/0/provider/kind: unknown provider \"cloudfare\" (did you mean "
                "\"cloudflare\"?)\n" +
                f + ": 3 errors\n");
}

TEST(CheckCliTest, MissingFileIsAnError) {
  testing::TempDir dir;
  auto r = ddnswatch({"check", "--config", (dir.path() / "nope.json").string()}, dir);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("nope.json: no such file"));
}

TEST(CheckCliTest, ConfigFromEnvironmentVariable) {
  testing::TempDir dir;
  auto cfg = dir.write("c.json", "{}");
  auto r = testing::run_command({DDNSWATCH_BINARY, "check"}, dir.path(), std::chrono::seconds(30),
                                {"DDNSWATCH_CONFIG=" + cfg.string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
}

TEST(CheckCliTest, VersionPrintsVersionAndLibraries) {
  testing::TempDir dir;
  auto r = ddnswatch({"version"}, dir);
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("ddnswatch 0."));
  EXPECT_THAT(r.out, HasSubstr("c-ares 1."));
}

TEST(CheckCliTest, HelpListsOnlyWorkingSubcommands) {
  testing::TempDir dir;
  auto r = ddnswatch({"--help"}, dir);
  EXPECT_EQ(r.code, 0);
  for (const char* sub : {"run", "check", "probe", "detect", "once", "version", "--log-format",
                          "--log-level", "--config"}) {
    EXPECT_THAT(r.out, HasSubstr(sub));
  }
  // The Windows service commands do not exist on this platform yet.
  EXPECT_THAT(r.out, Not(HasSubstr("service")));
}

TEST(CheckCliTest, ServiceCommandsSayTheyAreForWindows) {
  testing::TempDir dir;
  for (const char* action : {"install", "start"}) {
    auto r = ddnswatch({"service", action}, dir);
    EXPECT_EQ(r.code, 2);
    EXPECT_THAT(r.err, HasSubstr("for Windows only"));
  }
  EXPECT_EQ(ddnswatch({"service-run"}, dir).code, 2);
}

TEST(CheckCliTest, UsageErrorsExitWithTwo) {
  testing::TempDir dir;
  EXPECT_EQ(ddnswatch({}, dir).code, 2);
  EXPECT_EQ(ddnswatch({"frobnicate"}, dir).code, 2);
  auto r = ddnswatch({"--log-format", "xml", "check"}, dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--log-format"));
}

}  // namespace
}  // namespace ddnswatch
