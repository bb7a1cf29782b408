// The kernel's floor for fan-out on this machine: what sending one forwarded datagram costs a server that
// does nothing else. One thread sends `pps` "input packets" per second, each as one sendmmsg of a 1,100-byte
// datagram to every one of N receiving UDP sockets on loopback (as an SFU's pump does); a second thread
// drains the receivers, as the clients would. The sending thread's CPU time (RUSAGE_THREAD: user and
// system) divided by the datagrams it sent is the least any server pays per forwarded packet here, before it
// parses, rewrites or encrypts anything. bench/fanout.sh compares servers against it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

double thread_cpu_seconds(double* user, double* sys) {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  *user = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
  *sys = static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
  return *user + *sys;
}

int udp_socket(const char* ip, uint16_t port, sockaddr_in* bound) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  if (bound) *bound = a;
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  int receivers = 50;
  int pps = 350;  // the fan-out load's publisher: 300 video + 50 audio packets per second
  double seconds = 10;
  const char* ip = "127.0.0.1";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "-n")
      receivers = std::atoi(argv[i + 1]);
    else if (k == "--pps")
      pps = std::atoi(argv[i + 1]);
    else if (k == "--seconds")
      seconds = std::atof(argv[i + 1]);
    else if (k == "--ip")
      ip = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: udp_floor [-n receivers] [--pps input packets/s] [--seconds s] [--ip addr]\n");
      return 2;
    }
  }
  std::vector<int> rx(static_cast<size_t>(receivers));
  std::vector<sockaddr_in> addrs(rx.size());
  const int ep = epoll_create1(0);
  for (size_t i = 0; i < rx.size(); ++i) {
    rx[i] = udp_socket(ip, 0, &addrs[i]);
    if (rx[i] < 0) {
      std::perror("receiver socket");
      return 1;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = rx[i];
    epoll_ctl(ep, EPOLL_CTL_ADD, rx[i], &ev);
  }
  const int tx = udp_socket(ip, 0, nullptr);
  if (tx < 0) {
    std::perror("sender socket");
    return 1;
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> received{0};
  std::thread drain([&] {
    std::vector<epoll_event> events(64);
    char buf[2048];
    while (!stop.load()) {
      const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
      for (int i = 0; i < n; ++i)
        while (recv(events[static_cast<size_t>(i)].data.fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
          received.fetch_add(1, std::memory_order_relaxed);
    }
  });

  std::vector<uint8_t> payload(1100, 0xab);
  std::vector<mmsghdr> msgs(rx.size());
  std::vector<iovec> iov(rx.size());
  for (size_t i = 0; i < rx.size(); ++i) {
    iov[i] = {payload.data(), payload.size()};
    msgs[i].msg_hdr = {};
    msgs[i].msg_hdr.msg_name = &addrs[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  double u0 = 0, s0 = 0;
  thread_cpu_seconds(&u0, &s0);
  const auto start = std::chrono::steady_clock::now();
  const auto interval = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / pps));
  uint64_t sent = 0;
  auto next = start;
  while (std::chrono::steady_clock::now() - start < std::chrono::duration<double>(seconds)) {
    for (size_t off = 0; off < msgs.size();) {
      const int n =
          sendmmsg(tx, msgs.data() + off, static_cast<unsigned>(std::min<size_t>(128, msgs.size() - off)), 0);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
      sent += static_cast<uint64_t>(n);
    }
    next += interval;
    std::this_thread::sleep_until(next);
  }
  double u1 = 0, s1 = 0;
  thread_cpu_seconds(&u1, &s1);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  drain.join();
  const double per_user = (u1 - u0) / static_cast<double>(sent) * 1e6;
  const double per_sys = (s1 - s0) / static_cast<double>(sent) * 1e6;
  std::printf(
      "{\"receivers\": %d, \"pps\": %d, \"sent\": %llu, \"received\": %llu, "
      "\"user_us_per_datagram\": %.3f, \"sys_us_per_datagram\": %.3f, \"cpu_us_per_datagram\": %.3f}\n",
      receivers, pps, static_cast<unsigned long long>(sent), static_cast<unsigned long long>(received.load()),
      per_user, per_sys, per_user + per_sys);
  return 0;
}
