#include "load/signaling.h"

#include <chrono>
#include <deque>
#include <map>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace atrium::load {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using json = nlohmann::json;

HttpUrl HttpUrl::parse(const std::string& url) {
  HttpUrl u;
  std::string rest = url;
  if (rest.starts_with("http://")) rest = rest.substr(7);
  const auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) u.base = rest.substr(slash);
  if (!u.base.empty() && u.base.back() == '/') u.base.pop_back();
  const auto colon = hostport.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("URL " + url + " has no port");
  u.host = hostport.substr(0, colon);
  u.port = static_cast<uint16_t>(std::stoi(hostport.substr(colon + 1)));
  return u;
}

HttpReply http_request(const HttpUrl& url, const std::string& method, const std::string& target,
                       const std::string& content_type, const std::string& body) {
  const std::string where = method + " http://" + url.host + ":" + std::to_string(url.port) + target;
  try {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address(url.host), url.port});
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, url.host);
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    http::write(socket, req);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    http::read(socket, buf, parser);
    auto res = parser.release();
    boost::system::error_code ec;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    return {res.result_int(), res.body(), std::string(res[http::field::location])};
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(where + " failed: " + e.code().message());
  }
}

namespace {

class AtriumSignaling final : public Signaling {
 public:
  AtriumSignaling(HttpUrl url, std::string room) : url_(std::move(url)), room_(std::move(room)) {}

  std::string publish(const std::string& offer) override {
    return post(url_.base + "/whip/" + room_ + "?peer=load-pub", offer);
  }
  bool subscriber_offers() const override { return false; }
  std::string subscribe_with_offer(int index, const std::string& offer) override {
    return post(url_.base + "/whep/" + room_ + "?peer=load-sub" + std::to_string(index), offer);
  }
  std::string subscriber_server_offer(int) override {
    throw std::logic_error("WHEP takes the viewer's offer");
  }
  void subscriber_answer(int, const std::string&) override {}
  void close() override {
    for (const auto& l : sessions_) {
      try {
        http_request(url_, "DELETE", url_.base + l, "", "");
      } catch (const std::exception&) {  // the server may be gone already: nothing to clean up
      }
    }
    sessions_.clear();
  }

 private:
  std::string post(const std::string& target, const std::string& offer) {
    auto r = http_request(url_, "POST", target, "application/sdp", offer);
    if (r.status != 201)
      throw std::runtime_error("POST " + target + " answered " + std::to_string(r.status) + ": " + r.body);
    if (!r.location.empty()) sessions_.push_back(r.location);
    return r.body;
  }

  HttpUrl url_;
  std::string room_;
  std::vector<std::string> sessions_;
};

// Janus's HTTP API: one Janus session, one handle for the publisher and one per subscriber. Asynchronous
// plugin answers arrive through the session's long poll; events for other handles are kept for later.
class JanusSignaling final : public Signaling {
 public:
  JanusSignaling(HttpUrl url, uint64_t room) : url_(std::move(url)), room_(room) {
    session_ = call(url_.base, {{"janus", "create"}}).at("data").at("id").get<uint64_t>();
    publisher_ = attach();
    auto created = call(handle_path(publisher_), {{"janus", "message"},
                                                  {"body",
                                                   {{"request", "create"},
                                                    {"room", room_},
                                                    {"publishers", 1},
                                                    {"bitrate", 0},
                                                    {"audiocodec", "opus"},
                                                    {"videocodec", "vp8"},
                                                    {"fir_freq", 0}}}});
    const auto& data = created.at("plugindata").at("data");
    if (data.value("videoroom", "") != "created")
      throw std::runtime_error("Janus did not create room " + std::to_string(room_) + ": " + data.dump());
  }

  std::string publish(const std::string& offer) override {
    call(handle_path(publisher_), {{"janus", "message"},
                                   {"body",
                                    {{"request", "joinandconfigure"},
                                     {"ptype", "publisher"},
                                     {"room", room_},
                                     {"id", kPublisherId},
                                     {"display", "load"},
                                     {"audio", true},
                                     {"video", true}}},
                                   {"jsep", {{"type", "offer"}, {"sdp", offer}}}});
    auto ev = wait_jsep(publisher_, "publisher join");
    return ev.at("jsep").at("sdp").get<std::string>();
  }
  bool subscriber_offers() const override { return true; }
  std::string subscribe_with_offer(int, const std::string&) override {
    throw std::logic_error("Janus subscribers answer the server's offer");
  }
  std::string subscriber_server_offer(int index) override {
    const uint64_t h = attach();
    subscribers_[index] = h;
    call(handle_path(h), {{"janus", "message"},
                          {"body",
                           {{"request", "join"},
                            {"ptype", "subscriber"},
                            {"room", room_},
                            {"streams", json::array({{{"feed", kPublisherId}}})}}}});
    auto ev = wait_jsep(h, "subscriber join");
    return ev.at("jsep").at("sdp").get<std::string>();
  }
  void subscriber_answer(int index, const std::string& answer) override {
    call(handle_path(subscribers_.at(index)), {{"janus", "message"},
                                               {"body", {{"request", "start"}}},
                                               {"jsep", {{"type", "answer"}, {"sdp", answer}}}});
  }
  void close() override {
    if (session_ == 0) return;
    try {
      call(session_path(), {{"janus", "destroy"}});
    } catch (const std::exception&) {  // best effort
    }
    session_ = 0;
  }

 private:
  static constexpr uint64_t kPublisherId = 4242;

  std::string session_path() const { return url_.base + "/" + std::to_string(session_); }
  std::string handle_path(uint64_t h) const { return session_path() + "/" + std::to_string(h); }

  uint64_t attach() {
    return call(session_path(), {{"janus", "attach"}, {"plugin", "janus.plugin.videoroom"}})
        .at("data")
        .at("id")
        .get<uint64_t>();
  }

  // A request; "error" answers and plugin errors become exceptions.
  json call(const std::string& path, json msg) {
    msg["transaction"] = "t" + std::to_string(++transaction_);
    auto r = http_request(url_, "POST", path, "application/json", msg.dump());
    if (r.status != 200)
      throw std::runtime_error("Janus POST " + path + " answered HTTP " + std::to_string(r.status) + ": " +
                               r.body);
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded()) throw std::runtime_error("Janus POST " + path + " answered no JSON: " + r.body);
    if (j.value("janus", "") == "error")
      throw std::runtime_error("Janus refused " + msg.dump() + ": " + j.at("error").dump());
    if (j.contains("plugindata") && j["plugindata"]["data"].contains("error"))
      throw std::runtime_error("Janus VideoRoom refused " + msg.dump() + ": " +
                               j["plugindata"]["data"].dump());
    return j;
  }

  // Long-polls the session until an event with a jsep for handle `h` arrives (15 s at most).
  json wait_jsep(uint64_t h, const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if ((*it).value("sender", uint64_t{0}) != h) continue;
        json ev = *it;
        if (ev.contains("plugindata") && ev["plugindata"]["data"].contains("error")) {
          pending_.erase(it);
          throw std::runtime_error("Janus VideoRoom " + what + " failed: " + ev["plugindata"]["data"].dump());
        }
        if (ev.contains("jsep")) {
          pending_.erase(it);
          return ev;
        }
      }
      auto r = http_request(url_, "GET", session_path() + "?maxev=20", "", "");
      if (r.status != 200)
        throw std::runtime_error("Janus long poll answered HTTP " + std::to_string(r.status));
      auto j = json::parse(r.body, nullptr, false);
      if (j.is_discarded()) continue;
      if (!j.is_array()) j = json::array({j});
      for (auto& ev : j) {
        const std::string kind = ev.value("janus", "");
        if (kind == "event") pending_.push_back(std::move(ev));
      }
    }
    throw std::runtime_error("Janus sent no SDP for the " + what + " within 15 s");
  }

  HttpUrl url_;
  uint64_t room_;
  uint64_t session_ = 0;
  uint64_t publisher_ = 0;
  uint64_t transaction_ = 0;
  std::map<int, uint64_t> subscribers_;
  std::deque<json> pending_;
};

}  // namespace

std::unique_ptr<Signaling> make_atrium_signaling(HttpUrl url, std::string room) {
  return std::make_unique<AtriumSignaling>(std::move(url), std::move(room));
}
std::unique_ptr<Signaling> make_janus_signaling(HttpUrl url, uint64_t room) {
  return std::make_unique<JanusSignaling>(std::move(url), room);
}

}  // namespace atrium::load
