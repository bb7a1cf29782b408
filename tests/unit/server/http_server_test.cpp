// The HTTP server over real loopback sockets: answers from other threads, late and dropped answers, limits.
#include "server/http/http_server.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "server/worker_pool.h"

namespace atrium::server {
namespace {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

// A blocking client keeping one connection open across requests.
class Client {
 public:
  explicit Client(const asio::ip::tcp::endpoint& endpoint) : socket_(io_) { socket_.connect(endpoint); }

  http::response<http::string_body> send(http::verb method, const std::string& target,
                                         std::string body = {}) {
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, "test");
    request.body() = std::move(body);
    request.prepare_payload();
    http::write(socket_, request);
    http::response<http::string_body> response;
    http::read(socket_, buffer_, response);
    return response;
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void start() {
    ASSERT_FALSE(server_.listen({asio::ip::make_address("127.0.0.1"), 0}));
    server_.start();
  }

  HttpRouter router_;
  WorkerPool workers_{2};
  HttpLimits limits_ = [] {
    HttpLimits limits;
    limits.handler_timeout = 300ms;
    limits.max_body_bytes = 1024;
    return limits;
  }();
  HttpServer server_{router_, limits_};
};

TEST_F(HttpServerTest, AnswersFromAWorkerThreadOnAKeptAliveConnection) {
  router_.post("/echo/{room}", [this](const HttpRequest& request, Responder respond) {
    workers_.next().post([respond, room = std::string(request.param("room")), body = request.body] {
      respond(HttpResponse::text(201, room + ":" + body).with_header("Location", "/session/1"));
    });
  });
  workers_.start();
  start();
  Client client(server_.local_endpoint());
  for (int i = 0; i < 3; ++i) {
    const auto response = client.send(http::verb::post, "/echo/lobby?x=1", "hello" + std::to_string(i));
    EXPECT_EQ(response.result_int(), 201u);
    EXPECT_EQ(response.body(), "lobby:hello" + std::to_string(i));
    EXPECT_EQ(response[http::field::location], "/session/1");
    EXPECT_EQ(response[http::field::access_control_allow_origin], "*");
    EXPECT_TRUE(response.keep_alive());
  }
}

TEST_F(HttpServerTest, SlowHandlerGets504AndItsLateAnswerIsDropped) {
  std::mutex mutex;
  std::vector<Responder> parked;
  router_.get("/slow", [&](const HttpRequest&, Responder respond) {
    std::lock_guard lock(mutex);
    parked.push_back(respond);
  });
  start();
  Client client(server_.local_endpoint());
  EXPECT_EQ(client.send(http::verb::get, "/slow").result_int(), 504u);
  {
    std::lock_guard lock(mutex);
    parked.front()(HttpResponse::text(200, "late"));  // must not show up as the next answer
  }
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(client.send(http::verb::get, "/healthz-missing").result_int(), 404u);
}

TEST_F(HttpServerTest, DroppedResponderGets500) {
  router_.get("/drop", [](const HttpRequest&, Responder) {});
  start();
  Client client(server_.local_endpoint());
  EXPECT_EQ(client.send(http::verb::get, "/drop").result_int(), 500u);
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413) {
  router_.post("/upload", [](const HttpRequest&, Responder respond) { respond(HttpResponse::empty(204)); });
  start();
  {
    Client client(server_.local_endpoint());
    const auto ok = client.send(http::verb::post, "/upload", std::string(1024, 'x'));
    EXPECT_EQ(ok.result_int(), 204u);
    EXPECT_FALSE(ok.has_content_length());
  }
  Client client(server_.local_endpoint());
  const auto response = client.send(http::verb::post, "/upload", std::string(1025, 'x'));
  EXPECT_EQ(response.result_int(), 413u);
  EXPECT_FALSE(response.keep_alive());
}

TEST_F(HttpServerTest, StopWithAPendingRequestDoesNotHang) {
  router_.get("/never", [](const HttpRequest&, Responder respond) {
    static std::vector<Responder> forever;  // held past the server's life: answering later must be harmless
    forever.push_back(respond);
  });
  start();
  std::thread client([endpoint = server_.local_endpoint()] {
    try {
      Client(endpoint).send(http::verb::get, "/never");
    } catch (const std::exception&) {
      // the connection is closed by stop()
    }
  });
  std::this_thread::sleep_for(50ms);
  server_.stop();
  client.join();
}

}  // namespace
}  // namespace atrium::server
