// The WHEP viewer's source choice, driven through the real core: the selector sees exactly the events the
// viewer's endpoint emits, and its attach controls go back into that endpoint.
#include "transport/webrtc/session/whep_source_selector.h"

#include "core/core_harness.h"

namespace atrium::webrtc {
namespace {

using core::testing::CoreHarness;
using media::MediaKind;

struct Viewer {
  Viewer(CoreHarness& harness, std::string source)
      : h(harness), sel(std::move(source), {{1, MediaKind::kAudio}, {2, MediaKind::kVideo}}) {
    ep = h.join("r", "viewer", core::SubscribeMode::kManual, core::SubscribeMode::kAuto);
    step();
  }
  // Feeds the viewer's new events to the selector, and its decisions back to the core, until quiet.
  void step() {
    for (int guard = 0; guard < 10; ++guard) {
      std::vector<core::TransportEvent> controls;
      auto evs = std::move(h.events[ep]);
      h.events[ep].clear();
      for (auto& e : evs) {
        sel.on_event(e, controls);
        seen.push_back(std::move(e));
      }
      if (controls.empty()) return;
      for (auto& c : controls)
        h.send(ep, std::move(c));
    }
  }
  size_t media_on(core::LocalTrackId id) {
    size_t n = 0;
    for (auto& e : seen)
      if (auto* m = std::get_if<core::eev::LocalMedia>(&e); m && m->id == id) ++n;
    seen.clear();
    return n;
  }
  CoreHarness& h;
  WhepSourceSelector sel;
  core::EndpointId ep = 0;
  std::vector<core::EndpointEvent> seen;
};

void publish_av(CoreHarness& h, core::EndpointId ep) {
  h.publish(ep, 1, "audio", MediaKind::kAudio);
  h.publish(ep, 2, "video", MediaKind::kVideo);
}

TEST(WhepSourceSelector, WatchesTheFirstPublisherAndFollowsTheNextWhenItLeaves) {
  CoreHarness h;
  auto a = h.join("r", "alice");
  publish_av(h, a);
  Viewer v(h, "");
  EXPECT_EQ(v.sel.source_of(MediaKind::kVideo), "alice");
  EXPECT_EQ(v.sel.source_of(MediaKind::kAudio), "alice");

  auto b = h.join("r", "bob");
  publish_av(h, b);
  v.step();
  EXPECT_EQ(v.sel.source_of(MediaKind::kVideo), "alice") << "a second publisher does not steal the viewer";

  h.media(a, 2, 1, 0, true);
  h.media(b, 2, 1, 0, true);
  v.step();
  EXPECT_EQ(v.media_on(2), 1u);

  h.send(a, core::tev::Leave{});
  v.step();
  EXPECT_EQ(v.sel.source_of(MediaKind::kVideo), "bob");
  EXPECT_EQ(v.sel.source_of(MediaKind::kAudio), "bob");
  h.media(b, 2, 2, 3000, true);
  v.step();
  EXPECT_EQ(v.media_on(2), 1u) << "bob's key frame starts the viewer's video again";
  h.media(b, 1, 7, 960, true, media::Codec::kOpus);
  v.step();
  EXPECT_EQ(v.media_on(1), 1u) << "and its audio";
}

TEST(WhepSourceSelector, WaitsForAPublisherThatIsNotThereYet) {
  CoreHarness h;
  Viewer v(h, "");
  EXPECT_FALSE(v.sel.source_of(MediaKind::kVideo));
  auto a = h.join("r", "alice");
  publish_av(h, a);
  v.step();
  EXPECT_EQ(v.sel.source_of(MediaKind::kVideo), "alice");
  h.media(a, 2, 1, 0, true);
  v.step();
  EXPECT_EQ(v.media_on(2), 1u);
}

TEST(WhepSourceSelector, AFixedSourceIsTheOnlyOneWatched) {
  CoreHarness h;
  auto a = h.join("r", "alice");
  publish_av(h, a);
  Viewer v(h, "bob");
  EXPECT_FALSE(v.sel.source_of(MediaKind::kVideo));
  auto b = h.join("r", "bob");
  publish_av(h, b);
  v.step();
  EXPECT_EQ(v.sel.source_of(MediaKind::kVideo), "bob");
  h.send(b, core::tev::Unpublish{2});
  v.step();
  EXPECT_FALSE(v.sel.source_of(MediaKind::kVideo)) << "never falls back to alice";
  EXPECT_EQ(v.sel.source_of(MediaKind::kAudio), "bob");
}

}  // namespace
}  // namespace atrium::webrtc
