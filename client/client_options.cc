#include "client/client_options.h"

#include "client/limits.h"

namespace podium::client {

Status ValidateOptions(const ClientOptions& options) {
  if (options.host.empty()) return Status::InvalidArgument("host is empty");
  if (options.port == 0) return Status::InvalidArgument("port must be 1..65535");
  if (options.connect_timeout_ms <= 0 || options.connect_timeout_ms > kTimeoutMsMax) {
    return Status::InvalidArgument("connect_timeout_ms must be 1.." +
                                   std::to_string(kTimeoutMsMax));
  }
  if (options.io_timeout_ms < 0 || options.io_timeout_ms > kTimeoutMsMax) {
    return Status::InvalidArgument("io_timeout_ms must be 0.." + std::to_string(kTimeoutMsMax));
  }
  if (options.password.size() > kPasswordSizeBytesMax) {
    return Status::InvalidArgument("password is longer than " +
                                   std::to_string(kPasswordSizeBytesMax) + " bytes");
  }
  if (options.reconnect_attempts < 0 || options.reconnect_attempts > kReconnectAttemptsMax) {
    return Status::InvalidArgument("reconnect_attempts must be 0.." +
                                   std::to_string(kReconnectAttemptsMax));
  }
  if (options.reconnect_delay_ms < 0 || options.reconnect_delay_ms > kTimeoutMsMax) {
    return Status::InvalidArgument("reconnect_delay_ms must be 0.." +
                                   std::to_string(kTimeoutMsMax));
  }
  if (options.reply_size_bytes_max == 0 ||
      options.reply_size_bytes_max > protocol::kReplySizeBytesMax) {
    return Status::InvalidArgument("reply_size_bytes_max must be 1.." +
                                   std::to_string(protocol::kReplySizeBytesMax));
  }
  return Status::Ok();
}

Result<ServerAddress> ParseServerAddress(std::string_view text) {
  const auto invalid = [text](std::string_view why) {
    return Status::InvalidArgument("bad server address '" + std::string(text) +
                                   "': " + std::string(why) + " (expected host:port)");
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return invalid("no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find_first_of("[]:") != std::string_view::npos) {
    return invalid("an IPv6 address goes in brackets, as in [::1]:7700");
  }
  if (host.empty()) return invalid("empty host");
  if (port_text.empty() || port_text.size() > 5) return invalid("port must be 1..65535");
  uint32_t port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return invalid("port must be 1..65535");
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port == 0 || port > 65535) return invalid("port must be 1..65535");
  return ServerAddress{std::string(host), static_cast<uint16_t>(port)};
}

std::string FormatServerAddress(std::string_view host, uint16_t port) {
  std::string text;
  if (host.find(':') != std::string_view::npos) {
    text.append("[").append(host).append("]");
  } else {
    text.append(host);
  }
  return text + ":" + std::to_string(port);
}

}  // namespace podium::client
