// SdkSession driven with signalling text and the real core (EndpointHub + LocalBus), no network: requests get
// their documented answers and codes, room changes become events, publish/attach bind transceivers by MID,
// and a lost socket is forgiven for the grace period only.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cluster/local_bus.h"
#include "core/hub/endpoint_hub.h"
#include "transport/sdk/sdk_session.h"
#include "transport/webrtc/dtls/dtls_transport.h"

namespace atrium::sdk {
namespace {

using nlohmann::json;

std::string section(const char* kind, const char* mid, const char* dir, const char* fp) {
  const bool audio = std::string(kind) == "audio";
  return std::string("m=") + kind + (audio ? " 9 UDP/TLS/RTP/SAVPF 111\r\n" : " 9 UDP/TLS/RTP/SAVPF 96\r\n") +
         "c=IN IP4 "
         "0.0.0.0\r\na=ice-ufrag:cli1\r\na=ice-pwd:clientpasswordclientpass\r\na=fingerprint:sha-256 " +
         fp + "\r\na=setup:actpass\r\na=mid:" + mid +
         "\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=" + dir + "\r\na=rtcp-mux\r\n" +
         (audio ? "a=rtpmap:111 opus/48000/2\r\n" : "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\n");
}

// What the JS SDK offers: audio and video to send, then two receivers of each kind.
std::string sdk_offer(const std::string& fp) {
  std::string s =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1 2 3 4 5\r\na=msid-semantic: "
      "WMS\r\n";
  s += section("audio", "0", "sendonly", fp.c_str());
  s += section("video", "1", "sendonly", fp.c_str());
  s += section("video", "2", "recvonly", fp.c_str());
  s += section("audio", "3", "recvonly", fp.c_str());
  s += section("video", "4", "recvonly", fp.c_str());
  s += section("audio", "5", "recvonly", fp.c_str());
  return s;
}

class Sdk : public ::testing::Test {
 protected:
  struct Client {
    std::unique_ptr<SdkSession> session;
    core::EndpointId ep = 0;
    std::vector<json> responses;
    std::vector<json> events;
  };

  Sdk() {
    auto cert = webrtc::DtlsCertificate::generate();
    dtls_ = webrtc::DtlsContext::create(cert);
    fingerprint_ = cert->fingerprint_sha256();
  }

  Client& client(SdkSessionConfig config = {}) {
    auto c = std::make_unique<Client>();
    config.id = config.id.empty() ? "s" + std::to_string(clients_.size()) : config.id;
    config.resume_secret = "secret";
    c->session = std::make_unique<SdkSession>(config, [this](const std::string& offer) {
      webrtc::AnswerParams p;
      p.kind = webrtc::SessionKind::kPeer;
      p.ice_ufrag = "srv1";
      p.ice_pwd = "serverpasswordserverpass";
      p.fingerprint_sha256 = fingerprint_;
      p.candidates = {{"127.0.0.1", 40000, true, 0}};
      for (uint32_t i = 0; i < 8; ++i)
        p.send_streams.push_back({100 + i, 200 + i, "c", "s", "t"});
      auto r = webrtc::negotiate_answer(offer, webrtc::ServerMediaCaps::defaults(), p);
      if (!r) return MediaOffer{nullptr, {}, r.error().reason};
      webrtc::WebRtcSessionConfig cfg;
      cfg.kind = webrtc::SessionKind::kPeer;
      cfg.ice = {"srv1", "serverpasswordserverpass"};
      cfg.remote_fingerprint = {r->remote_fingerprint.algorithm, r->remote_fingerprint.hex};
      cfg.media = r->media;
      cfg.join_room = false;
      return MediaOffer{std::make_unique<webrtc::WebRtcSession>(dtls_, std::move(cfg), now_), r->sdp, {}};
    });
    c->ep = hub_.create_endpoint();
    clients_.push_back(std::move(c));
    return *clients_.back();
  }

  // One request through the session and the core, as the runtime does it.
  json request(Client& c, json r) {
    static int id = 0;
    r["id"] = ++id;
    c.session->on_message(now_, r.dump());
    pump();
    c.session->finish_request();
    collect();
    for (auto& resp : c.responses)
      if (resp["id"] == r["id"]) return resp;
    return json();
  }

  json join(Client& c, const std::string& peer, const char* peers = "auto", const char* tracks = "auto") {
    return request(c, {{"type", "join"},
                       {"room", "r"},
                       {"peer", peer},
                       {"peers", peers},
                       {"tracks", tracks},
                       {"meta", {{"name", peer}}},
                       {"offer", sdk_offer(fingerprint_)}});
  }

  void pump() {
    bool progress = true;
    while (progress) {
      progress = false;
      for (auto& c : clients_) {
        while (auto e = c->session->pop_event()) {
          hub_.on_transport(now_, c->ep, std::move(*e));
          progress = true;
        }
      }
      while (auto o = hub_.pop_output()) {
        for (auto& c : clients_)
          if (c->ep == o->to) c->session->on_endpoint_event(now_, o->event);
        progress = true;
      }
    }
  }

  void collect() {
    for (auto& c : clients_) {
      while (auto m = c->session->pop_message()) {
        auto j = json::parse(*m);
        (j["type"] == "response" ? c->responses : c->events).push_back(j);
      }
    }
  }

  std::vector<json> events(Client& c, const std::string& name) {
    collect();
    std::vector<json> out;
    for (auto& e : c.events)
      if (e["event"] == name) out.push_back(e);
    return out;
  }

  media::Micros now_ = 1'000'000;
  std::shared_ptr<webrtc::DtlsContext> dtls_;
  std::string fingerprint_;
  core::LocalBus bus_;
  core::EndpointHub hub_{bus_};
  std::vector<std::unique_ptr<Client>> clients_;
};

std::string code(const json& response) {
  return response.value("ok", true) ? "OK" : response["error"]["code"].get<std::string>();
}

TEST_F(Sdk, BadRequestsGetCodes) {
  auto& a = client();
  a.session->on_message(now_, "{not json");
  a.session->on_message(now_, "[1,2]");
  collect();
  ASSERT_EQ(a.responses.size(), 2u);
  EXPECT_EQ(code(a.responses[0]), "BAD_REQUEST");
  EXPECT_EQ(code(a.responses[1]), "BAD_REQUEST");
  EXPECT_EQ(code(request(a, {{"type", "publish"}})), "NOT_JOINED");
  EXPECT_EQ(code(request(a, {{"type", "ping"}})), "OK");
  EXPECT_EQ(code(request(a, {{"type", "join"}, {"room", "r"}, {"peer", "a"}})),
            "INVALID_ARGUMENT");  // no offer
  EXPECT_EQ(code(request(a, {{"type", "join"}, {"room", "r"}, {"peer", "a"}, {"offer", "v=0\r\n"}})),
            "SDP_REJECTED");
  EXPECT_EQ(code(request(a, {{"type", "join"}, {"room", "bad room"}, {"peer", "a"}, {"offer", "x"}})),
            "INVALID_ARGUMENT");
  ASSERT_EQ(code(join(a, "alice")), "OK");
  EXPECT_EQ(code(request(a, {{"type", "dance"}})), "UNKNOWN_REQUEST");
  EXPECT_EQ(code(join(a, "alice")), "ALREADY_JOINED");
}

TEST_F(Sdk, JoinAnswersWithSdpThenTheRoom) {
  auto& a = client();
  auto& b = client();
  ASSERT_EQ(code(join(a, "alice")), "OK");
  auto r = join(b, "bob");
  ASSERT_EQ(code(r), "OK");
  EXPECT_EQ(r["result"]["peer"], "bob");
  EXPECT_NE(r["result"]["answer"].get<std::string>().find("a=ice-lite"), std::string::npos);
  EXPECT_EQ(r["result"]["session"], "s1");
  auto joined = events(b, "peer_joined");
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0]["peer"], "alice");
  EXPECT_EQ(joined[0]["meta"]["name"], "alice");
  EXPECT_EQ(events(a, "peer_joined").size(), 1u);
  auto& taken = client();
  EXPECT_EQ(code(join(taken, "alice")), "PEER_ID_TAKEN");
  EXPECT_TRUE(taken.session->closed());
}

TEST_F(Sdk, PublishBindsASendingMidAndAttachPicksAFreeReceiver) {
  auto& a = client();
  auto& b = client();
  join(a, "alice");
  join(b, "bob");
  EXPECT_EQ(code(request(a, {{"type", "publish"}, {"name", "cam"}, {"kind", "video"}, {"mid", "2"}})),
            "INVALID_ARGUMENT");  // a receiving section
  EXPECT_EQ(code(request(a, {{"type", "publish"}, {"name", "cam"}, {"kind", "audio"}, {"mid", "1"}})),
            "INVALID_ARGUMENT");  // wrong kind
  ASSERT_EQ(code(request(a, {{"type", "publish"}, {"name", "cam"}, {"kind", "video"}, {"mid", "1"}})), "OK");
  EXPECT_EQ(code(request(a, {{"type", "publish"}, {"name", "cam"}, {"kind", "video"}, {"mid", "1"}})),
            "TRACK_EXISTS");
  auto published = events(b, "track_published");
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0]["track"], "cam");
  EXPECT_EQ(published[0]["kind"], "video");

  EXPECT_EQ(code(request(b, {{"type", "attach"}, {"peer", "alice"}, {"track", "nope"}})), "TRACK_NOT_FOUND");
  auto att = request(b, {{"type", "attach"}, {"peer", "alice"}, {"track", "cam"}});
  ASSERT_EQ(code(att), "OK");
  EXPECT_EQ(att["result"]["mid"], "2");
  EXPECT_EQ(request(b, {{"type", "attach"}, {"peer", "alice"}, {"track", "cam"}})["result"]["mid"], "2");
  auto states = events(b, "receiver_state");
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.back()["state"], "waiting");

  ASSERT_EQ(code(request(a, {{"type", "unpublish"}, {"name", "cam"}})), "OK");
  EXPECT_EQ(events(b, "track_unpublished").size(), 1u);
  states = events(b, "receiver_state");
  EXPECT_EQ(states.back()["state"], "source_gone");
  EXPECT_EQ(code(request(b, {{"type", "detach"}, {"mid", "2"}})), "LOCAL_TRACK_NOT_FOUND");
}

TEST_F(Sdk, ReceiversRunOutWithACode) {
  auto& b = client();
  join(b, "bob");  // two video receivers (mids 2 and 4)
  for (const char* peer : {"alice", "carol", "dave"}) {
    auto& p = client();
    join(p, peer);
    ASSERT_EQ(code(request(p, {{"type", "publish"}, {"name", "cam"}, {"kind", "video"}, {"mid", "1"}})),
              "OK");
  }
  EXPECT_EQ(request(b, {{"type", "attach"}, {"peer", "alice"}, {"track", "cam"}})["result"]["mid"], "2");
  EXPECT_EQ(request(b, {{"type", "attach"}, {"peer", "carol"}, {"track", "cam"}})["result"]["mid"], "4");
  EXPECT_EQ(code(request(b, {{"type", "attach"}, {"peer", "dave"}, {"track", "cam"}})), "NO_RECEIVER");
  ASSERT_EQ(code(request(b, {{"type", "detach"}, {"mid", "2"}})), "OK");
  EXPECT_EQ(request(b, {{"type", "attach"}, {"peer", "dave"}, {"track", "cam"}})["result"]["mid"], "2");
}

TEST_F(Sdk, MessagesAndMetaReachTheOthers) {
  auto& a = client();
  auto& b = client();
  join(a, "alice");
  join(b, "bob");
  ASSERT_EQ(code(request(a, {{"type", "message"}, {"data", {{"text", "hi"}}}})), "OK");
  auto got = events(b, "message");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["from"], "alice");
  EXPECT_EQ(got[0]["data"]["text"], "hi");
  EXPECT_EQ(code(request(a, {{"type", "message"}, {"to", "nobody"}, {"data", 1}})), "PEER_NOT_FOUND");
  EXPECT_EQ(code(request(a, {{"type", "message"}})), "INVALID_ARGUMENT");
  ASSERT_EQ(code(request(a, {{"type", "update_meta"}, {"meta", {{"muted", true}}}})), "OK");
  auto meta = events(b, "peer_meta");
  ASSERT_EQ(meta.size(), 1u);
  EXPECT_EQ(meta[0]["meta"]["muted"], true);
}

TEST_F(Sdk, ManualModeHearsNothingUntilItSubscribes) {
  auto& a = client();
  auto& m = client();
  join(a, "alice");
  request(a, {{"type", "publish"}, {"name", "cam"}, {"kind", "video"}, {"mid", "1"}});
  join(m, "mallory", "manual", "manual");
  EXPECT_TRUE(events(m, "peer_joined").empty());
  EXPECT_TRUE(events(m, "track_published").empty());
  EXPECT_EQ(code(request(m, {{"type", "attach"}, {"peer", "alice"}, {"track", "cam"}})), "TRACK_NOT_FOUND");
  ASSERT_EQ(code(request(m, {{"type", "subscribe_peer"}, {"peer", "alice"}})), "OK");
  EXPECT_EQ(events(m, "peer_joined").size(), 1u);
  EXPECT_EQ(events(m, "track_published").size(), 1u);
  EXPECT_EQ(code(request(m, {{"type", "attach"}, {"peer", "alice"}, {"track", "cam"}})), "OK");
  EXPECT_EQ(code(request(a, {{"type", "subscribe_peer"}, {"peer", "mallory"}})), "NOT_MANUAL_MODE");
}

TEST_F(Sdk, PermissionsAreChecked) {
  SdkSessionConfig viewer;
  viewer.permissions.publish = false;
  auto& v = client(viewer);
  join(v, "viewer");
  EXPECT_EQ(code(request(v, {{"type", "publish"}, {"name", "cam"}, {"kind", "video"}, {"mid", "1"}})),
            "PERMISSION_DENIED");
  SdkSessionConfig publisher;
  publisher.permissions.subscribe = false;
  auto& p = client(publisher);
  join(p, "pub");
  ASSERT_EQ(code(request(p, {{"type", "publish"}, {"name", "cam"}, {"kind", "video"}, {"mid", "1"}})), "OK");
  EXPECT_EQ(code(request(p, {{"type", "attach"}, {"peer", "pub"}, {"track", "cam"}})), "PERMISSION_DENIED");
}

TEST_F(Sdk, ALostSocketIsForgivenForTheGraceOnlyAndResumeReplaysTheRoom) {
  auto& a = client();
  auto& b = client();
  join(a, "alice");
  join(b, "bob");
  request(a, {{"type", "publish"}, {"name", "cam"}, {"kind", "video"}, {"mid", "1"}});
  b.session->on_disconnected(now_);
  now_ += 29'000'000;
  b.session->on_tick(now_);
  EXPECT_FALSE(b.session->closed());
  b.events.clear();
  b.session->on_resume(now_, json{{"id", 99}, {"type", "join"}, {"room", "r"}});
  collect();
  ASSERT_FALSE(b.responses.empty());
  EXPECT_EQ(b.responses.back()["result"]["resumed"], true);
  EXPECT_EQ(b.responses.back()["result"]["peer"], "bob");
  EXPECT_EQ(events(b, "peer_joined").size(), 1u);
  EXPECT_EQ(events(b, "track_published").size(), 1u);
  EXPECT_TRUE(events(a, "peer_left").empty());

  b.session->on_disconnected(now_);
  now_ += 30'000'000;
  b.session->on_tick(now_);
  EXPECT_TRUE(b.session->closed());
  EXPECT_NE(b.session->close_reason().find("grace"), std::string::npos);
}

TEST_F(Sdk, LeaveEndsTheSessionAtOnce) {
  auto& a = client();
  auto& b = client();
  join(a, "alice");
  join(b, "bob");
  EXPECT_EQ(code(request(b, {{"type", "leave"}})), "OK");
  EXPECT_TRUE(b.session->closed());
  EXPECT_EQ(events(a, "peer_left").size(), 1u);
}

TEST_F(Sdk, WronglyTypedFieldsAreInvalidArgumentsNamingTheField) {
  auto& a = client();
  // Before the join: the join's own fields.
  for (const char* field : {"room", "peer", "peers", "tracks", "offer", "token"}) {
    json r = {{"type", "join"}, {"room", "r"}, {"peer", "a"}, {"offer", sdk_offer(fingerprint_)}};
    r[field] = json::array({1});
    const auto answer = request(a, r);
    EXPECT_EQ(code(answer), "INVALID_ARGUMENT") << field;
    EXPECT_EQ(answer["error"]["message"], "\"" + std::string(field) + "\" must be a string") << field;
  }
  ASSERT_EQ(code(join(a, "alice")), "OK");
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"type", "publish"}, {"name", 5}, {"kind", "video"}, {"mid", "1"}}, "\"name\" must be a string"},
      {{{"type", "publish"}, {"name", "cam"}, {"kind", {{"k", 1}}}, {"mid", "1"}},
       "\"kind\" must be a string"},
      {{{"type", "unpublish"}, {"name", json::array()}}, "\"name\" must be a string"},
      {{{"type", "update_track_meta"}, {"name", 1}}, "\"name\" must be a string"},
      {{{"type", "subscribe_peer"}, {"peer", true}}, "\"peer\" must be a string"},
      {{{"type", "unsubscribe_peer"}, {"peer", nullptr}}, "\"peer\" must be a string"},
      {{{"type", "attach"}, {"peer", "b"}, {"track", 3}}, "\"track\" must be a string"},
      {{{"type", "detach"}, {"mid", 2}}, "\"mid\" must be a string"},
      {{{"type", "set_limits"}, {"mid", "2"}, {"max_bitrate", "100"}},
       "\"max_bitrate\" must be a whole number from 0 to 4294967295"},
      {{{"type", "set_limits"}, {"mid", "2"}, {"max_bitrate", 4294967296}},
       "\"max_bitrate\" must be a whole number from 0 to 4294967295"},
      {{{"type", "set_limits"}, {"mid", "2"}, {"priority", 300}},
       "\"priority\" must be a whole number from 0 to 255"},
      {{{"type", "set_limits"}, {"mid", "2"}, {"paused", 1}}, "\"paused\" must be true or false"},
      {{{"type", "message"}, {"data", 1}, {"to", json::object()}}, "\"to\" must be a string"},
      {{{"type", "ping"}, {"id", json::array()}}, ""},  // request() sets the id: see below
  };
  for (const auto& [message, sentence] : cases) {
    if (sentence.empty()) continue;
    const auto answer = request(a, message);
    EXPECT_EQ(code(answer), "INVALID_ARGUMENT") << message.dump();
    EXPECT_EQ(answer["error"]["message"], sentence) << message.dump();
  }
  // An id that is neither a number nor a string: BAD_REQUEST, answered with a null id.
  a.responses.clear();
  a.session->on_message(now_, R"({"type": "ping", "id": {"x": 1}})");
  collect();
  ASSERT_EQ(a.responses.size(), 1u);
  EXPECT_EQ(code(a.responses[0]), "BAD_REQUEST");
  EXPECT_TRUE(a.responses[0]["id"].is_null());
  // null for an optional field is absent: a normal answer.
  EXPECT_EQ(code(request(a, {{"type", "message"}, {"data", nullptr}, {"to", nullptr}})), "OK");
  EXPECT_EQ(code(request(a, {{"type", "update_meta"}, {"meta", nullptr}})), "OK");
}

TEST_F(Sdk, SubscribeMixBindsAnAudioReceiver) {
  auto& a = client();
  auto& b = client();
  join(a, "alice");
  join(b, "bob");  // two audio receivers (mids 3 and 5)
  ASSERT_EQ(code(request(a, {{"type", "publish"}, {"name", "mic"}, {"kind", "audio"}, {"mid", "0"}})), "OK");
  auto mix = request(b, {{"type", "subscribe_mix"}});
  ASSERT_EQ(code(mix), "OK");
  EXPECT_EQ(mix["result"]["mid"], "3");
  EXPECT_EQ(request(b, {{"type", "subscribe_mix"}})["result"]["mid"], "3");  // the same receiver
  auto states = events(b, "receiver_state");
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.back()["mid"], "3");
  EXPECT_EQ(states.back()["peer"], "*");
  EXPECT_EQ(states.back()["track"], "mix");
  EXPECT_EQ(states.back()["state"], "waiting");
  // The other audio receiver is still free for a track.
  EXPECT_EQ(request(b, {{"type", "attach"}, {"peer", "alice"}, {"track", "mic"}})["result"]["mid"], "5");
  ASSERT_EQ(code(request(b, {{"type", "unsubscribe_mix"}})), "OK");
  EXPECT_EQ(code(request(b, {{"type", "unsubscribe_mix"}})), "LOCAL_TRACK_NOT_FOUND");
  EXPECT_EQ(request(b, {{"type", "subscribe_mix"}})["result"]["mid"], "3");
  ASSERT_EQ(code(request(b, {{"type", "detach"}, {"mid", "3"}})), "OK");  // detach works for the mix too
  ASSERT_EQ(code(request(b, {{"type", "detach"}, {"mid", "5"}})), "OK");
}

}  // namespace
}  // namespace atrium::sdk
