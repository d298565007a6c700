#include "client/client_options.h"

#include <gtest/gtest.h>

namespace podium::client {
namespace {

TEST(ClientOptionsTest, ParsesHostAndPort) {
  Result<ServerAddress> address = ParseServerAddress("127.0.0.1:7700");
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 7700);

  address = ParseServerAddress("localhost:6379");
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->host, "localhost");
  EXPECT_EQ(address->port, 6379);

  address = ParseServerAddress("db.example.com:1");
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->port, 1);
  address = ParseServerAddress("h:65535");
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->port, 65535);
}

TEST(ClientOptionsTest, ParsesBracketedIpv6) {
  Result<ServerAddress> address = ParseServerAddress("[::1]:7700");
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  EXPECT_EQ(address->host, "::1");
  EXPECT_EQ(address->port, 7700);
}

TEST(ClientOptionsTest, RefusesBadAddresses) {
  for (const char* text :
       {"", "127.0.0.1", "127.0.0.1:", ":7700", "host:0", "host:65536", "host:99999999", "host:-1",
        "host:+1", "host:77a", "host: 7700", "::1:7700", "[::1]", "[]:7700", "[::1:7700"}) {
    Result<ServerAddress> address = ParseServerAddress(text);
    EXPECT_FALSE(address.ok()) << "'" << text << "'";
    if (!address.ok()) {
      EXPECT_EQ(address.status().code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(address.status().message().find("host:port"), std::string::npos);
    }
  }
}

TEST(ClientOptionsTest, FormatsAddressesBack) {
  EXPECT_EQ(FormatServerAddress("127.0.0.1", 7700), "127.0.0.1:7700");
  EXPECT_EQ(FormatServerAddress("::1", 7700), "[::1]:7700");
  Result<ServerAddress> address = ParseServerAddress(FormatServerAddress("::1", 80));
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->host, "::1");
}

TEST(ClientOptionsTest, ValidatesRanges) {
  EXPECT_TRUE(ValidateOptions(ClientOptions{}).ok());
  ClientOptions options;
  options.connect_timeout_ms = 0;
  EXPECT_EQ(ValidateOptions(options).code(), ErrorCode::kInvalidArgument);
  options = ClientOptions{};
  options.io_timeout_ms = -1;
  EXPECT_EQ(ValidateOptions(options).code(), ErrorCode::kInvalidArgument);
  options = ClientOptions{};
  options.reconnect_attempts = -1;
  EXPECT_EQ(ValidateOptions(options).code(), ErrorCode::kInvalidArgument);
  options = ClientOptions{};
  options.reply_size_bytes_max = protocol::kReplySizeBytesMax + 1;
  EXPECT_EQ(ValidateOptions(options).code(), ErrorCode::kInvalidArgument);
  options = ClientOptions{};
  options.password.assign(1000, 'x');
  EXPECT_EQ(ValidateOptions(options).code(), ErrorCode::kInvalidArgument);
  options = ClientOptions{};
  options.port = 0;
  EXPECT_EQ(ValidateOptions(options).code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace podium::client
