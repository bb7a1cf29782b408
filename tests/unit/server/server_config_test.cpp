#include "server/server_config.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "server/host_port.h"

namespace atrium::server {
namespace {

// A JSON config file in the test's temp dir, removed afterwards.
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& text)
      : path_(std::filesystem::temp_directory_path() /
              ("atrium_config_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
               "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json")) {
    std::ofstream(path_) << text;
  }
  ~ConfigFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

void expect_one_line_error(const ConfigParseResult& result, const std::string& fragment) {
  EXPECT_FALSE(result.config);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(result.output.starts_with("atrium: ")) << result.output;
  EXPECT_EQ(result.output.find('\n'), std::string::npos) << result.output;
  EXPECT_NE(result.output.find(fragment), std::string::npos) << result.output;
}

TEST(ServerConfig, DefaultsResolveWorkersToCores) {
  const auto result = parse_command_line(std::vector<std::string>{});
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->http, "127.0.0.1:8080");
  EXPECT_EQ(result.config->log_level, "info");
  EXPECT_EQ(result.config->workers, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST(ServerConfig, FlagsAreParsed) {
  const auto result = parse_command_line({"--http", "[::1]:9000", "--workers", "3", "--log-level", "debug"});
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->http, "[::1]:9000");
  EXPECT_EQ(result.config->workers, 3);
  EXPECT_EQ(result.config->log_level, "debug");
}

TEST(ServerConfig, UnknownFlagIsOneLineExit2) {
  expect_one_line_error(parse_command_line({"--bogus"}), "--bogus");
}

TEST(ServerConfig, BadValuesAreOneLineExit2) {
  expect_one_line_error(parse_command_line({"--workers", "many"}), "--workers");
  expect_one_line_error(parse_command_line({"--workers", "-1"}), "--workers");
  expect_one_line_error(parse_command_line({"--workers", "100000"}), "--workers");
  expect_one_line_error(parse_command_line({"--http", "localhost:80"}), "--http");
  expect_one_line_error(parse_command_line({"--http", "127.0.0.1"}), "--http");
  expect_one_line_error(parse_command_line({"--http", "127.0.0.1:70000"}), "--http");
  expect_one_line_error(parse_command_line({"--log-level", "loud"}), "--log-level");
  expect_one_line_error(parse_command_line({"--http"}), "--http");
}

// TLS: a certificate comes with its key, or is generated; not both (the files are read by the server at
// start).
TEST(ServerConfig, TlsFlagsGoTogetherAndExcludeEachOther) {
  EXPECT_FALSE(tls_enabled(*parse_command_line(std::vector<std::string>{}).config));
  const auto files = parse_command_line({"--tls-cert", "c.pem", "--tls-key", "k.pem"});
  ASSERT_TRUE(files.config);
  EXPECT_TRUE(tls_enabled(*files.config));
  const auto generated = parse_command_line({"--tls-self-signed"});
  ASSERT_TRUE(generated.config);
  EXPECT_TRUE(generated.config->tls_self_signed);
  EXPECT_TRUE(tls_enabled(*generated.config));
  expect_one_line_error(parse_command_line({"--tls-cert", "c.pem"}), "--tls-cert needs --tls-key");
  expect_one_line_error(parse_command_line({"--tls-key", "k.pem"}), "--tls-key needs --tls-cert");
  expect_one_line_error(
      parse_command_line({"--tls-self-signed", "--tls-cert", "c.pem", "--tls-key", "k.pem"}),
      "exclude each other");
  ConfigFile file(R"({"tls-self-signed": true})");
  const auto from_file = parse_command_line({"--config", file.path()});
  ASSERT_TRUE(from_file.config);
  EXPECT_TRUE(from_file.config->tls_self_signed);
}

TEST(ServerConfig, HelpAndVersionExit0) {
  auto help = parse_command_line({"--help"});
  EXPECT_FALSE(help.config);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--workers"), std::string::npos);
  auto version = parse_command_line({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output, std::string("atrium ") + ATRIUM_VERSION + "\n");
}

TEST(ServerConfig, ConfigFileFillsWhatFlagsDoNotSay) {
  ConfigFile file(R"({"http": "0.0.0.0:9999", "workers": 5, "log-level": "warn"})");
  const auto result = parse_command_line({"--config", file.path(), "--workers", "2"});
  ASSERT_TRUE(result.config) << result.output;
  EXPECT_EQ(result.config->http, "0.0.0.0:9999");
  EXPECT_EQ(result.config->workers, 2);  // the flag wins
  EXPECT_EQ(result.config->log_level, "warn");
  EXPECT_EQ(result.config->config_file, file.path());
}

TEST(ServerConfig, ConfigFileErrors) {
  {
    ConfigFile file("{ not json");
    expect_one_line_error(parse_command_line({"--config", file.path()}), "not valid JSON");
  }
  {
    ConfigFile file(R"(["http"])");
    expect_one_line_error(parse_command_line({"--config", file.path()}), "JSON object");
  }
  {
    ConfigFile file(R"({"workers": "4"})");
    expect_one_line_error(parse_command_line({"--config", file.path()}), "\"workers\" must be an integer");
  }
  {
    ConfigFile file(R"({"wrokers": 4})");
    expect_one_line_error(parse_command_line({"--config", file.path()}), "unknown setting \"wrokers\"");
  }
  {
    ConfigFile file(R"({"http": "nowhere"})");
    expect_one_line_error(parse_command_line({"--config", file.path()}), "--http");
  }
  expect_one_line_error(parse_command_line({"--config", "/nonexistent/atrium.json"}),
                        "/nonexistent/atrium.json");
}

// RTMP follows --http's host unless told otherwise, and can be turned off.
TEST(ServerConfig, RtmpListensOnTheHttpHostByDefault) {
  auto parsed = parse_command_line(std::vector<std::string>{"--http", "0.0.0.0:9000"});
  ASSERT_TRUE(parsed.config);
  EXPECT_EQ(rtmp_address(*parsed.config), "0.0.0.0:1935");
  parsed = parse_command_line(std::vector<std::string>{"--http", "[::1]:9000"});
  ASSERT_TRUE(parsed.config);
  EXPECT_EQ(rtmp_address(*parsed.config), "[::1]:1935");
  parsed = parse_command_line(std::vector<std::string>{"--rtmp", "127.0.0.1:19350"});
  ASSERT_TRUE(parsed.config);
  EXPECT_EQ(rtmp_address(*parsed.config), "127.0.0.1:19350");
  parsed = parse_command_line(std::vector<std::string>{"--rtmp", "off"});
  ASSERT_TRUE(parsed.config);
  EXPECT_EQ(rtmp_address(*parsed.config), "");
  expect_one_line_error(parse_command_line(std::vector<std::string>{"--rtmp", "localhost:1935"}), "--rtmp");
  expect_one_line_error(parse_command_line(std::vector<std::string>{"--rtmp-max-pending", "0"}),
                        "--rtmp-max-pending");
}

TEST(HostPort, ParsesAndFormats) {
  auto v4 = parse_host_port("127.0.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(format_host_port(*v4), "127.0.0.1:8080");
  auto v6 = parse_host_port("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(format_host_port(*v6), "[::1]:0");
  EXPECT_FALSE(parse_host_port("::1:80"));
  EXPECT_FALSE(parse_host_port("[::1]80"));
  EXPECT_FALSE(parse_host_port("1.2.3.4:"));
  EXPECT_FALSE(parse_host_port("1.2.3.4:8x"));
  EXPECT_FALSE(parse_host_port("example.org:80"));
}

}  // namespace
}  // namespace atrium::server
