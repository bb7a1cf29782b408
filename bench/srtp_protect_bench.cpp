// Per-packet cost of protecting one forwarded RTP packet (12-byte header + 1100 bytes of payload) for one
// viewer, the step the fan-out repeats per subscriber: AEAD_AES_128_GCM through SrtpGcmSender (OpenSSL),
// and AES_CM_128_HMAC_SHA1_80 through libsrtp2, for comparison.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "transport/webrtc/srtp/srtp_session.h"

namespace {

using namespace atrium::webrtc;

SrtpKeys keys(SrtpProfile p) {
  SrtpKeys k;
  k.profile = p;
  for (SrtpMasterKey* m : {&k.local, &k.remote}) {
    m->key.assign(srtp_master_key_len(p), 0x42);
    m->salt.assign(srtp_master_salt_len(p), 0x17);
  }
  return k;
}

void BM_SrtpProtect(benchmark::State& state) {
  const auto profile = static_cast<SrtpProfile>(state.range(0));
  auto session = SrtpSession::create(keys(profile));
  std::vector<uint8_t> plain(12 + 1100, 0x5A);
  plain[0] = 0x80;
  plain[1] = 96;
  plain[8] = 0x12;
  std::vector<uint8_t> buf(plain.size() + SrtpSession::kMaxTrailer);
  uint16_t seq = 0;
  for (auto _ : state) {
    std::memcpy(buf.data(), plain.data(), plain.size());
    buf[2] = static_cast<uint8_t>(seq >> 8);
    buf[3] = static_cast<uint8_t>(seq);
    ++seq;
    benchmark::DoNotOptimize(session->protect_rtp(buf, plain.size()));
  }
  state.SetLabel(std::string(to_string(profile)));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 1100);
}
BENCHMARK(BM_SrtpProtect)
    ->Arg(static_cast<int>(SrtpProfile::kAeadAes128Gcm))
    ->Arg(static_cast<int>(SrtpProfile::kAes128CmSha1_80));

}  // namespace
