#include "server/http/http_router.h"

#include <optional>
#include <stdexcept>

#include <gtest/gtest.h>

namespace atrium::server {
namespace {
namespace http = boost::beast::http;

HttpHandler noop() {
  return [](const HttpRequest&, Responder respond) { respond(HttpResponse::text(200, "")); };
}

// Dispatches a request and returns what was answered synchronously.
std::optional<HttpResponse> run(const HttpRouter& router, http::verb method, std::string path,
                                HttpRequest* seen = nullptr) {
  std::optional<HttpResponse> answer;
  HttpRequest request;
  request.method = method;
  request.path = std::move(path);
  router.dispatch(request, Responder([&](HttpResponse r) { answer = std::move(r); }));
  if (seen) *seen = request;
  return answer;
}

std::string header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return {};
}

TEST(HttpRouter, ExactMatchAndNotFound) {
  HttpRouter router;
  router.get("/healthz", noop());
  EXPECT_EQ(router.match(http::verb::get, "/healthz").kind, HttpRouter::Match::Kind::kFound);
  EXPECT_EQ(router.match(http::verb::get, "/healthz/").kind, HttpRouter::Match::Kind::kNotFound);
  EXPECT_EQ(router.match(http::verb::get, "/health").kind, HttpRouter::Match::Kind::kNotFound);
  EXPECT_EQ(router.match(http::verb::get, "/").kind, HttpRouter::Match::Kind::kNotFound);
  EXPECT_EQ(run(router, http::verb::get, "/nope")->status, 404u);
}

TEST(HttpRouter, CapturesPercentDecodedParams) {
  HttpRouter router;
  router.post("/whip/{room}/{peer}", noop());
  const auto match = router.match(http::verb::post, "/whip/my%20room/alice");
  ASSERT_EQ(match.kind, HttpRouter::Match::Kind::kFound);
  EXPECT_EQ(match.params.at("room"), "my room");
  EXPECT_EQ(match.params.at("peer"), "alice");
  // A parameter never matches an empty segment or more than one.
  EXPECT_EQ(router.match(http::verb::post, "/whip//alice").kind, HttpRouter::Match::Kind::kNotFound);
  EXPECT_EQ(router.match(http::verb::post, "/whip/a/b/c").kind, HttpRouter::Match::Kind::kNotFound);
}

TEST(HttpRouter, DispatchFillsParams) {
  HttpRouter router;
  std::string room;
  router.get("/rooms/{room}", [&](const HttpRequest& request, Responder respond) {
    room = std::string(request.param("room"));
    respond(HttpResponse::text(200, "ok"));
  });
  EXPECT_EQ(run(router, http::verb::get, "/rooms/lobby")->status, 200u);
  EXPECT_EQ(room, "lobby");
}

TEST(HttpRouter, RestWildcard) {
  HttpRouter router;
  router.get("/static/*", noop());
  auto match = router.match(http::verb::get, "/static/js/app.js");
  ASSERT_EQ(match.kind, HttpRouter::Match::Kind::kFound);
  EXPECT_EQ(match.params.at("*"), "js/app.js");
  match = router.match(http::verb::get, "/static/");
  ASSERT_EQ(match.kind, HttpRouter::Match::Kind::kFound);
  EXPECT_EQ(match.params.at("*"), "");
  EXPECT_EQ(router.match(http::verb::get, "/static").kind, HttpRouter::Match::Kind::kFound);
  EXPECT_THROW(router.get("/a/*/b", noop()), std::invalid_argument);
}

TEST(HttpRouter, MostSpecificWinsRegardlessOfOrder) {
  HttpRouter router;
  int which = 0;
  router.get("/*", [&](const HttpRequest&, Responder r) { which = 1, r(HttpResponse::empty(200)); });
  router.get("/whip/{room}",
             [&](const HttpRequest&, Responder r) { which = 2, r(HttpResponse::empty(200)); });
  router.get("/whip/health",
             [&](const HttpRequest&, Responder r) { which = 3, r(HttpResponse::empty(200)); });
  run(router, http::verb::get, "/whip/health");
  EXPECT_EQ(which, 3);
  run(router, http::verb::get, "/whip/lobby");
  EXPECT_EQ(which, 2);
  run(router, http::verb::get, "/other");
  EXPECT_EQ(which, 1);
}

TEST(HttpRouter, WrongMethodIs405WithAllow) {
  HttpRouter router;
  router.post("/whip/{room}", noop());
  router.add(http::verb::delete_, "/whip/{room}", noop());
  const auto answer = run(router, http::verb::get, "/whip/lobby");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 405u);
  EXPECT_EQ(header(*answer, "Allow"), "POST, DELETE, OPTIONS");
}

TEST(HttpRouter, GenericPreflightForKnownPaths) {
  HttpRouter router;
  router.post("/whip/{room}", noop());
  const auto answer = run(router, http::verb::options, "/whip/lobby");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 204u);
  EXPECT_EQ(header(*answer, "Access-Control-Allow-Methods"), "POST, OPTIONS");
  EXPECT_FALSE(header(*answer, "Access-Control-Allow-Headers").empty());
  EXPECT_EQ(run(router, http::verb::options, "/elsewhere")->status, 404u);
}

TEST(HttpRouter, ExplicitOptionsRouteWinsOverPreflight) {
  HttpRouter router;
  router.post("/whip/{room}", noop());
  router.add(http::verb::options, "/whip/{room}", [](const HttpRequest&, Responder respond) {
    respond(HttpResponse::empty(204).with_header("Link", "<stun:example.org>; rel=\"ice-server\""));
  });
  const auto answer = run(router, http::verb::options, "/whip/lobby");
  EXPECT_EQ(header(*answer, "Link"), "<stun:example.org>; rel=\"ice-server\"");
}

TEST(HttpRouter, ThrowingHandlerAnswers500) {
  HttpRouter router;
  router.get("/boom", [](const HttpRequest&, Responder) { throw std::runtime_error("boom"); });
  EXPECT_EQ(run(router, http::verb::get, "/boom")->status, 500u);
}

TEST(HttpRouter, RejectsDuplicatesAndRelativePatterns) {
  HttpRouter router;
  router.get("/a", noop());
  EXPECT_THROW(router.get("/a", noop()), std::invalid_argument);
  EXPECT_NO_THROW(router.post("/a", noop()));
  EXPECT_THROW(router.get("a", noop()), std::invalid_argument);
}

TEST(PercentDecode, DecodesValidEscapesOnly) {
  EXPECT_EQ(percent_decode("a%2Fb%20c"), "a/b c");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
}

TEST(Responder, FirstAnswerWinsAndDropIs500) {
  std::vector<unsigned> answers;
  {
    Responder respond([&](HttpResponse r) { answers.push_back(r.status); });
    Responder copy = respond;
    copy(HttpResponse::empty(201));
    respond(HttpResponse::empty(202));
    EXPECT_TRUE(respond.answered());
  }
  EXPECT_EQ(answers, (std::vector<unsigned>{201}));
  answers.clear();
  {
    Responder dropped([&](HttpResponse r) { answers.push_back(r.status); });
  }
  EXPECT_EQ(answers, (std::vector<unsigned>{500}));
}

}  // namespace
}  // namespace atrium::server
