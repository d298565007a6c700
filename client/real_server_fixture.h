// RealServerFixture: the gtest fixture of the client's tests against the real podium-server,
// run once per protocol (TEST_P with ::testing::Values(kBinary, kResp), named by
// ProtocolName). Each test starts its own server (RealServer), so counts in INFO are exact and
// a restart disturbs nobody; client_ is connected to it. Call/CallOn turn a transport failure
// into a test failure, so a test reads as a list of replies.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "client/client.h"
#include "client/real_server.h"

namespace podium::client::testing {

inline constexpr std::string_view kPassword = "s3cret pass";
// How long InfoWhen polls: more than the server takes to close an idle client (--idle_timeout_sec
// is checked once a second).
inline constexpr int64_t kInfoWaitMs = 5000;

inline std::string ProtocolName(const ::testing::TestParamInfo<ClientProtocol>& info) {
  return ProtocolSuffix(info.param);
}

// INFO's "field:value" lines as a map, and its "# Section" headers in order.
struct Info {
  std::map<std::string, std::string> fields;
  std::vector<std::string> sections;
};

inline Info ParseInfo(const protocol::ReplyValue& reply) {
  EXPECT_EQ(reply.type, protocol::ValueType::kBytes) << reply.ToString();
  Info info;
  std::istringstream lines(reply.bytes);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.starts_with("# ")) {
      info.sections.push_back(line.substr(2));
    } else if (const size_t colon = line.find(':'); colon != std::string::npos) {
      info.fields[line.substr(0, colon)] = line.substr(colon + 1);
    }
  }
  return info;
}

class RealServerFixture : public ::testing::TestWithParam<ClientProtocol> {
 protected:
  void SetUp() override { StartServer({}); }

  void TearDown() override {
    client_.reset();
    if (server_ != nullptr && server_->running()) {
      EXPECT_EQ(server_->Stop(), 0) << "no clean shutdown; output:\n" << server_->log();
    }
  }

  // Starts the server and connects client_, with `password` when not empty.
  void StartServer(std::vector<std::string> flags, std::string_view password = {}) {
    server_ = std::make_unique<RealServer>(std::move(flags));
    const std::string error = server_->Start();
    ASSERT_EQ(error, "");
    ClientOptions options = Options();
    options.password = password;
    client_ = Connect(options);
  }

  ClientOptions Options() const { return server_->Options(GetParam()); }

  std::unique_ptr<Client> Connect(const ClientOptions& options) {
    Result<Client> client = Client::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    if (!client.ok()) return nullptr;
    return std::make_unique<Client>(std::move(client).value());
  }

  // The reply from `client` (default: client_), or (after a test failure) an error value
  // naming the transport failure.
  template <typename Name, typename... Args>
  protocol::ReplyValue CallOn(Client& client, Name name, const Args&... args) {
    Result<protocol::ReplyValue> reply = [&] {
      if constexpr (sizeof...(Args) == 0) {
        return client.Call(name);
      } else {
        return client.Call(name, args...);
      }
    }();
    if (!reply.ok()) {
      ADD_FAILURE() << reply.status().ToString() << "\nserver output:\n" << server_->log();
      return protocol::ReplyValue::Error(protocol::StatusCode::kProtocol,
                                         reply.status().ToString());
    }
    return std::move(reply).value();
  }
  template <typename Name, typename... Args>
  protocol::ReplyValue Call(Name name, const Args&... args) {
    if (client_ == nullptr) {
      ADD_FAILURE() << "not connected";
      return protocol::ReplyValue::Nil();
    }
    return CallOn(*client_, name, args...);
  }

  protocol::ReplyValue Error(protocol::StatusCode status, std::string_view message) const {
    return ExpectedError(GetParam(), status, message);
  }
  protocol::ReplyValue Score(double score) const { return ExpectedScore(GetParam(), score); }
  bool IsBinary() const { return GetParam() == ClientProtocol::kBinary; }

  // INFO `section` from `on` (default: client_), polled until `field` reads `value` (the
  // server counts a closed connection when its loop gets to it) or kInfoWaitMs passes; the
  // last INFO either way.
  Info InfoWhen(std::string_view section, const std::string& field, std::string_view value,
                Client* on = nullptr) {
    const std::chrono::steady_clock::time_point deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kInfoWaitMs);
    Client& client = on != nullptr ? *on : *client_;
    const auto read = [&] {
      return ParseInfo(section.empty() ? CallOn(client, "INFO") : CallOn(client, "INFO", section));
    };
    Info info = read();
    while (info.fields[field] != value && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      info = read();
    }
    return info;
  }

  std::unique_ptr<RealServer> server_;
  std::unique_ptr<Client> client_;
};

}  // namespace podium::client::testing
