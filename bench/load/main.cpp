// atrium-load: one publisher and N subscribers against Atrium (WHIP/WHEP) or Janus (VideoRoom over HTTP),
// with Atrium's own WebRTC stack in the client role. Progress on stderr, results as JSON.
//
//   atrium-load --server atrium --url http://127.0.0.1:8080 --subscribers 50 --duration 10 --server-pid PID
//   atrium-load --server janus --url http://127.0.0.1:8088/janus --subscribers 50 ...
//   atrium-load ... --tcp       (Atrium) the subscribers over ICE-TCP, to the server's passive TCP candidate
//
// Phases: publisher connects; subscribers join one after another; wait until every one receives media;
// warm-up; the measured window (server CPU from /proc/PID/stat at both ends, packets the subscribers got,
// latency from the send time in each payload); stop; loss from the sequence numbers of each subscriber. Each
// subscriber's time to first video (its media connect to its first video RTP packet) is reported as p50, p99
// and max over the subscribers.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "load/peer.h"
#include "load/sdp_util.h"
#include "load/signaling.h"

namespace asio = boost::asio;
using namespace atrium::load;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string server = "atrium";
  std::string url = "http://127.0.0.1:8080";
  std::string bind = "127.0.0.1";
  std::string room = "load";
  int subscribers = 10;
  double duration = 10;
  double warmup = 2;
  int server_pid = 0;
  std::string out;
  MediaSettings media;
  bool quiet = false;
  bool verbose = false;
  bool require_no_loss = false;
  bool tcp = false;    // subscribers over ICE-TCP (the publisher stays on UDP)
  bool netns = false;  // alone in a network namespace with the server: its UDP counters are ours
};

// utime + stime of a process in seconds, or -1; `sys` gets stime alone.
double process_cpu_seconds(int pid, double* sys = nullptr) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(s.substr(close + 2));
  std::string f;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoul(f);
    if (i == 15) stime = std::stoul(f);
  }
  const auto hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (sys) *sys = static_cast<double>(stime) / hz;
  return static_cast<double>(utime + stime) / hz;
}

// A field of the "Udp:" lines of /proc/net/snmp (this network namespace's totals), or -1.
int64_t udp_counter(const std::string& name) {
  std::ifstream in("/proc/net/snmp");
  std::string header, values;
  while (std::getline(in, header)) {
    if (!header.starts_with("Udp:")) continue;
    if (!std::getline(in, values)) return -1;
    std::istringstream h(header), v(values);
    std::string field, value;
    while (h >> field && v >> value)
      if (field == name) return std::stoll(value);
    return -1;
  }
  return -1;
}

double percentile_us(const std::vector<uint64_t>& h, double p) {
  uint64_t total = 0;
  for (auto v : h)
    total += v;
  if (total == 0) return -1;
  const auto want = static_cast<uint64_t>(static_cast<double>(total) * p);
  uint64_t seen = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    seen += h[i];
    if (seen > want) return static_cast<double>(i) * 10 + 5;
  }
  return static_cast<double>(h.size()) * 10;
}

// Nearest-rank percentile of `v` (sorted in place), or -1 for none.
double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

class Progress {
 public:
  explicit Progress(bool quiet) : quiet_(quiet || !isatty(2)) {}
  void line(const std::string& s) {
    if (quiet_) return;
    std::fprintf(stderr, "\r\033[K%s", s.c_str());
    std::fflush(stderr);
    open_ = true;
  }
  void done(const std::string& s) {  // a line that stays
    if (open_ && !quiet_) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "atrium-load: %s\n", s.c_str());
    open_ = false;
  }

 private:
  bool quiet_;
  bool open_ = false;
};

int run(const Options& o) {
  Progress progress(o.quiet);
  const auto bind = asio::ip::make_address(o.bind);
  auto cert = atrium::webrtc::DtlsCertificate::generate();
  auto dtls = atrium::webrtc::DtlsContext::create(cert);

  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::thread media([&io] { io.run(); });
  ReceiveTotals totals;
  std::unique_ptr<Signaling> sig;
  std::unique_ptr<Peer> publisher;
  std::vector<std::unique_ptr<Peer>> subs;
  auto shutdown = [&] {
    if (publisher) publisher->stop();
    for (auto& s : subs)
      s->stop();
    if (sig) sig->close();
    guard.reset();
    io.stop();
    media.join();
  };

  try {
    const auto url = HttpUrl::parse(o.url);
    if (o.server == "atrium") {
      sig = make_atrium_signaling(url, o.room);
    } else if (o.server == "janus") {
      sig = make_janus_signaling(url, 1000 + static_cast<uint64_t>(getpid() % 100000));
    } else {
      throw std::runtime_error("--server must be atrium or janus, not " + o.server);
    }

    // Publisher.
    publisher = std::make_unique<Peer>(io, Peer::Role::kPublisher, "publisher", bind, dtls, &totals);
    const auto pub_offer = publish_offer(publisher->local(), o.media.audio);
    const auto answer = sig->publish(pub_offer);
    if (o.verbose)
      std::fprintf(stderr, "publisher offer:\n%s\nanswer:\n%s\n", pub_offer.c_str(), answer.c_str());
    publisher->start(parse_remote(answer), true, o.media);
    const auto pub_deadline = Clock::now() + std::chrono::seconds(10);
    while (!publisher->connected()) {
      if (publisher->failed()) throw std::runtime_error(publisher->failure());
      if (Clock::now() > pub_deadline)
        throw std::runtime_error("the publisher did not connect (ICE + DTLS) within 10 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    progress.done("publisher connected to " + o.server);

    // Subscribers, one after another.
    const auto join_start = Clock::now();
    for (int i = 0; i < o.subscribers; ++i) {
      auto s = std::make_unique<Peer>(io, Peer::Role::kSubscriber, "subscriber " + std::to_string(i), bind,
                                      dtls, &totals);
      if (sig->subscriber_offers()) {
        if (o.tcp) throw std::runtime_error("--tcp: only where the subscriber offers (atrium)");
        const auto offer = sig->subscriber_server_offer(i);
        const auto remote = parse_remote(offer);
        sig->subscriber_answer(i, answer_offer(offer, s->local()));
        s->start(remote, false, o.media);
      } else {
        s->start(parse_remote(sig->subscribe_with_offer(i, subscribe_offer(s->local()))), true, o.media,
                 o.tcp);
      }
      subs.push_back(std::move(s));
      if (publisher->failed()) throw std::runtime_error(publisher->failure());
      progress.line("joining " + std::to_string(i + 1) + "/" + std::to_string(o.subscribers));
    }
    const double join_s = std::chrono::duration<double>(Clock::now() - join_start).count();

    // Every subscriber connected and receiving, video included.
    const auto wait_limit = std::chrono::milliseconds(15000 + 50 * o.subscribers);
    const auto deadline = Clock::now() + wait_limit;
    for (;;) {
      int connected = 0, receiving = 0;
      for (auto& s : subs) {
        if (s->failed()) throw std::runtime_error(s->failure());
        connected += s->connected();
        receiving += s->received() > 0 && s->first_video_ns() >= 0;
      }
      progress.line("connected " + std::to_string(connected) + "/" + std::to_string(subs.size()) +
                    ", receiving video " + std::to_string(receiving));
      if (receiving == o.subscribers) break;
      if (Clock::now() > deadline) {
        std::string who;
        for (auto& s : subs)
          if (s->received() == 0 || s->first_video_ns() < 0)
            who += (who.empty() ? "" : ", ") + s->name() + (s->connected() ? "" : " (not connected)");
        throw std::runtime_error(std::to_string(o.subscribers - receiving) + " of " +
                                 std::to_string(o.subscribers) + " subscribers received no video within " +
                                 std::to_string(wait_limit.count() / 1000) + " s: " + who.substr(0, 400));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // Time to first video, per subscriber.
    std::vector<double> first_video_ms;
    for (auto& s : subs)
      first_video_ms.push_back(static_cast<double>(s->first_video_ns()) / 1e6);
    const double first_video_max =
        first_video_ms.empty() ? -1 : *std::max_element(first_video_ms.begin(), first_video_ms.end());
    const double first_video_p50 = percentile(first_video_ms, 0.50);
    const double first_video_p99 = percentile(first_video_ms, 0.99);
    {
      std::ostringstream l;
      l << std::fixed;
      l.precision(1);
      l << o.subscribers << " subscribers joined in " << std::to_string(join_s).substr(0, 5)
        << " s and receive; first video after connect p50 " << first_video_p50 << " ms, p99 "
        << first_video_p99 << " ms, max " << first_video_max << " ms";
      progress.done(l.str());
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));

    // The measured window.
    const uint64_t sent0 = publisher->sent();
    const int64_t rcvbuf_errors0 = udp_counter("RcvbufErrors");
    const int64_t out0 = udp_counter("OutDatagrams");
    const uint64_t ours0 = totals.datagrams_sent.load();
    double sys0 = 0, sys1 = 0;
    const double cpu0 = process_cpu_seconds(o.server_pid, &sys0);
    const auto t0 = Clock::now();
    totals.measuring.store(true);
    while (Clock::now() - t0 < std::chrono::duration<double>(o.duration)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      const double el = std::chrono::duration<double>(Clock::now() - t0).count();
      const double cpu = process_cpu_seconds(o.server_pid);
      std::ostringstream l;
      l << std::fixed;
      l.precision(1);
      l << o.server << " N=" << o.subscribers << "  " << static_cast<int>(el) << "/" << o.duration
        << " s  forwarded " << static_cast<uint64_t>(static_cast<double>(totals.window_packets.load()) / el)
        << " pkt/s";
      if (cpu >= 0) l << "  server CPU " << 100 * (cpu - cpu0) / el << " %";
      progress.line(l.str());
    }
    totals.measuring.store(false);
    const double window = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu1 = process_cpu_seconds(o.server_pid, &sys1);
    const int64_t out1 = udp_counter("OutDatagrams");
    const uint64_t ours1 = totals.datagrams_sent.load();
    const uint64_t window_packets = totals.window_packets.load();
    const uint64_t window_sent = publisher->sent() - sent0;

    // Stop the publisher, let the last packets arrive, then read every subscriber on the media thread.
    publisher->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::promise<json> result_promise;
    asio::post(io, [&] {
      uint64_t lost = 0, late = 0, received = 0, min_received = UINT64_MAX, min_window = UINT64_MAX;
      for (auto& s : subs) {
        lost += s->lost();
        late += s->late();
        received += s->received();
        min_received = std::min(min_received, s->received());
        min_window = std::min(min_window, s->window_received());
      }
      json r;
      r["lost"] = lost;
      r["late"] = late;
      r["received_total"] = received;
      r["min_received_per_subscriber"] = subs.empty() ? 0 : min_received;
      r["min_window_received_per_subscriber"] = subs.empty() ? 0 : min_window;
      r["latency_p50_us"] = percentile_us(totals.latency, 0.50);
      r["latency_p99_us"] = percentile_us(totals.latency, 0.99);
      r["latency_max_bucket_us"] = percentile_us(totals.latency, 1.0);
      result_promise.set_value(r);
    });
    json r = result_promise.get_future().get();
    r["server"] = o.server;
    if (o.netns && out0 >= 0 && out1 >= 0) {
      // What the server sent in the window: every UDP datagram of the namespace but the clients' own.
      const auto server_sent = (out1 - out0) - static_cast<int64_t>(ours1 - ours0);
      r["server_datagrams_sent"] = server_sent;
      r["server_datagrams_sent_per_s"] = static_cast<double>(server_sent) / window;
      if (cpu1 >= 0 && server_sent > 0)
        r["server_cpu_us_per_sent_datagram"] = 1e6 * (cpu1 - cpu0) / static_cast<double>(server_sent);
      r["udp_receive_buffer_drops"] = udp_counter("RcvbufErrors") - rcvbuf_errors0;  // window + drain
    }
    r["subscribers"] = o.subscribers;
    r["subscriber_transport"] = o.tcp ? "tcp" : "udp";
    r["duration_s"] = window;
    r["join_s"] = join_s;
    // From each subscriber's media connect (DTLS done) to its first video RTP packet, over the subscribers.
    r["first_video_p50_ms"] = first_video_p50;
    r["first_video_p99_ms"] = first_video_p99;
    r["first_video_max_ms"] = first_video_max;
    r["video_kbps"] = o.media.video_kbps;
    r["video_pps"] = o.media.video_pps;
    r["audio"] = o.media.audio;
    r["decrypt_every"] = o.media.decrypt_every;
    r["published_packets"] = window_sent;
    r["forwarded_packets"] = window_packets;
    r["forwarded_pps"] = static_cast<double>(window_packets) / window;
    r["keyframe_requests"] = publisher->keyframes_requested();
    r["srtp_failures"] = totals.srtp_failures.load();
    const uint64_t expected = static_cast<uint64_t>(r["lost"]) + static_cast<uint64_t>(r["received_total"]);
    r["loss_ratio"] =
        expected ? static_cast<double>(r["lost"].get<uint64_t>()) / static_cast<double>(expected) : 0.0;
    if (cpu1 >= 0 && cpu0 >= 0) {
      r["server_cpu_s"] = cpu1 - cpu0;
      r["server_cpu_sys_s"] = sys1 - sys0;  // in the kernel: for loopback, the receivers' delivery too
      r["server_cpu_percent"] = 100 * (cpu1 - cpu0) / window;
      r["server_cpu_us_per_forwarded_packet"] =
          window_packets ? 1e6 * (cpu1 - cpu0) / static_cast<double>(window_packets) : 0.0;
    }
    std::ostringstream summary;
    summary << std::fixed;
    summary.precision(2);
    summary << o.server << " N=" << o.subscribers << ": " << r["forwarded_pps"].get<double>()
            << " pkt/s forwarded, loss " << 100 * r["loss_ratio"].get<double>() << " %, p50 "
            << r["latency_p50_us"].get<double>() / 1000 << " ms, p99 "
            << r["latency_p99_us"].get<double>() / 1000 << " ms, first video p50 " << first_video_p50
            << " ms, p99 " << first_video_p99 << " ms";
    if (r.contains("server_cpu_s"))
      summary << ", server CPU " << r["server_cpu_percent"].get<double>()
              << " % = " << r["server_cpu_us_per_forwarded_packet"].get<double>() << " us/packet";
    progress.done(summary.str());
    shutdown();
    const std::string text = r.dump(2) + "\n";
    if (o.out.empty()) {
      std::cout << text;
    } else {
      std::ofstream f(o.out);
      f << text;
      if (!f) throw std::runtime_error("cannot write " + o.out);
    }
    if (o.require_no_loss) {
      std::string why;
      if (r["lost"].get<uint64_t>() > 0) why = std::to_string(r["lost"].get<uint64_t>()) + " packets lost";
      if (r["srtp_failures"].get<uint64_t>() > 0) why = "SRTP failures";
      if (o.subscribers > 0 && r["min_window_received_per_subscriber"].get<uint64_t>() == 0)
        why = "a subscriber received nothing in the measured window";
      if (!why.empty()) {
        std::fprintf(stderr, "atrium-load: --require-no-loss: %s\n", why.c_str());
        return 3;
      }
    }
    return 0;
  } catch (const std::exception& e) {
    progress.done(std::string("error: ") + e.what());
    shutdown();
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"atrium-load: 1 WebRTC publisher and N subscribers against Atrium (WHIP/WHEP) or Janus"};
  app.add_option("--server", o.server, "atrium or janus")->check(CLI::IsMember({"atrium", "janus"}));
  app.add_option("--url", o.url, "Atrium: http://HOST:PORT; Janus: http://HOST:PORT/janus");
  app.add_option("--bind", o.bind, "the clients' UDP address (loopback)");
  app.add_option("--room", o.room, "Atrium room name");
  app.add_option("-n,--subscribers", o.subscribers, "subscribers")->check(CLI::Range(0, 5000));
  app.add_option("--duration", o.duration, "measured seconds")->check(CLI::Range(0.5, 3600.0));
  app.add_option("--warmup", o.warmup, "seconds between all receiving and the measured window");
  app.add_option("--server-pid", o.server_pid, "server process whose CPU seconds are read from /proc");
  app.add_option("--out", o.out, "JSON result file (default: stdout)");
  app.add_option("--video-kbps", o.media.video_kbps, "video bitrate")->check(CLI::Range(10, 50000));
  app.add_option("--video-pps", o.media.video_pps, "video packets per second")->check(CLI::Range(30, 10000));
  app.add_option("--decrypt-every", o.media.decrypt_every,
                 "subscribers authenticate + decrypt 1 packet in K (all are counted by sequence number)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--keyframe-interval", o.media.keyframe_interval_s, "seconds between key frames");
  app.add_flag(
      "--no-audio", [&o](int64_t) { o.media.audio = false; }, "video only");
  app.add_flag("--tcp", o.tcp, "subscribers connect over ICE-TCP (the server's passive TCP candidate)");
  app.add_flag("-q,--quiet", o.quiet, "no progress line");
  app.add_flag("-v,--verbose", o.verbose, "print the publisher's SDP");
  app.add_flag(
      "--netns", o.netns,
      "only this tool and the server use UDP in this network namespace: count the server's datagrams "
      "from /proc/net/snmp");
  app.add_flag("--require-no-loss", o.require_no_loss,
               "exit 3 when a packet was lost, failed SRTP, or a subscriber got nothing in the window");
  CLI11_PARSE(app, argc, argv);
  return run(o);
}
