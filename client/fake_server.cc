#include "client/fake_server.h"

#include <arpa/inet.h>
#include <glog/logging.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/binary_reply_writer.h"
#include "protocol/binary_request_decoder.h"
#include "protocol/handshake.h"
#include "protocol/resp_reply_writer.h"
#include "protocol/resp_request_decoder.h"

namespace podium::client::testing {

namespace {

template <typename Writer>
std::string ReplyBytes(uint32_t request_id, const protocol::ReplyValue& value) {
  std::string out;
  Writer writer(&out);
  writer.BeginReply(request_id);
  // Binary error values hold the message without the code word, as Replay expects.
  protocol::testing::Replay(value, /*resp_origin=*/false, &writer);
  writer.EndReply();
  return out;
}

}  // namespace

std::string BinaryReplyBytes(uint32_t request_id, const protocol::ReplyValue& value) {
  return ReplyBytes<protocol::BinaryReplyWriter>(request_id, value);
}

std::string RespReplyBytes(const protocol::ReplyValue& value) {
  return ReplyBytes<protocol::RespReplyWriter>(0, value);
}

bool FakeConnection::ReadMore() {
  pollfd waiting{fd_, POLLIN, 0};
  if (::poll(&waiting, 1, kWaitMs) <= 0) return false;
  char chunk[4096];
  const ssize_t received = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (received <= 0) return false;
  buffer_.append(chunk, static_cast<size_t>(received));
  return true;
}

bool FakeConnection::AcceptHandshake(protocol::StatusCode status) {
  protocol::ClientHello hello;
  while (true) {
    const protocol::DecodeResult result = protocol::DecodeClientHello(buffer_, &hello);
    if (result.error()) return false;
    if (result.complete()) {
      buffer_.erase(0, result.consumed_bytes());
      break;
    }
    if (!ReadMore()) return false;
  }
  std::string answer;
  protocol::AppendServerHello({protocol::kProtocolVersion, status}, &answer);
  Write(answer);
  return true;
}

std::vector<protocol::testing::OwnedRequest> FakeConnection::ReadBinaryRequests(size_t count) {
  protocol::BinaryRequestDecoder decoder;
  return ReadRequests(decoder, count);
}

std::vector<protocol::testing::OwnedRequest> FakeConnection::ReadRespRequests(size_t count) {
  protocol::RespRequestDecoder decoder;
  return ReadRequests(decoder, count);
}

template <typename Decoder>
std::vector<protocol::testing::OwnedRequest> FakeConnection::ReadRequests(Decoder& decoder,
                                                                          size_t count) {
  std::vector<protocol::testing::OwnedRequest> requests;
  protocol::Request request;
  while (requests.size() < count) {
    const protocol::DecodeResult result =
        decoder.Decode(buffer_, protocol::kRequestSizeBytesMax, &request);
    if (result.error()) break;
    if (result.complete()) requests.push_back(protocol::testing::Own(request));
    buffer_.erase(0, result.consumed_bytes());
    if (result.need_more() && !ReadMore()) break;
  }
  return requests;
}

bool FakeConnection::WaitForClientClose() {
  pollfd waiting{fd_, POLLIN, 0};
  while (::poll(&waiting, 1, kWaitMs) > 0) {
    char chunk[4096];
    const ssize_t received = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (received <= 0) return true;
  }
  return false;
}

void FakeConnection::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) return;  // the client went away; the test's assertions will say so
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
}

void FakeConnection::WriteByteByByte(std::string_view bytes) {
  const int on = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  for (size_t i = 0; i < bytes.size(); ++i) {
    Write(bytes.substr(i, 1));
    ::usleep(200);  // lets each byte leave as its own segment
  }
}

void FakeConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void FakeConnection::CloseWithReset() {
  if (fd_ < 0) return;
  const linger abort_on_close{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
  Close();
}

FakeServer::FakeServer(std::vector<Script> scripts) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK_GE(listen_fd_, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  CHECK_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  CHECK_EQ(::listen(listen_fd_, 16), 0);
  socklen_t size = sizeof(address);
  CHECK_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &size), 0);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread(&FakeServer::Serve, this, std::move(scripts));
}

FakeServer::~FakeServer() {
  stopping_ = true;
  thread_.join();
  ::close(listen_fd_);
}

void FakeServer::Serve(std::vector<Script> scripts) {
  for (Script& script : scripts) {
    int fd = -1;
    while (fd < 0 && !stopping_) {
      pollfd waiting{listen_fd_, POLLIN, 0};
      if (::poll(&waiting, 1, 20) > 0) fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    }
    if (fd < 0) return;
    ++accepted_;
    FakeConnection connection(fd);
    script(connection);
  }
}

}  // namespace podium::client::testing
