// Feeds arbitrary bytes to the STUN view: parse, every accessor, integrity with a fixed key, fingerprint; a
// parsed message is then rebuilt with the writer and must parse again.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "media/stun/stun_message.h"
#include "media/stun/stun_writer.h"

using namespace atrium::media;

namespace {

volatile uint64_t g_sink = 0;

void sink(uint64_t v) {
  g_sink = g_sink + v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  sink(StunMessage::looks_like_stun(in));
  std::string_view why;
  auto m = StunMessage::parse(in, &why);
  if (!m) {
    sink(why.size());
    return 0;
  }
  sink(m->type() + m->method() + static_cast<uint64_t>(m->message_class()) + m->size());
  sink(m->transaction_id()[0]);
  auto it = m->attributes();
  size_t n = 0;
  while (auto a = it.next()) {
    sink(a->type + a->value.size() + a->offset);
    if (++n > kStunMaxAttributes) std::abort();  // parse() bounds the count
  }
  if (auto u = m->username()) sink(u->size());
  if (auto s = m->software()) sink(s->size());
  if (auto p = m->priority()) sink(*p);
  if (auto c = m->ice_controlling()) sink(*c);
  if (auto c = m->ice_controlled()) sink(*c);
  if (auto e = m->error_code()) {
    if (e->code < 300 || e->code > 699) std::abort();
    sink(e->reason.size());
  }
  if (auto a = m->xor_mapped_address()) sink(a->port + a->ip[0]);
  if (auto a = m->mapped_address()) sink(a->port + a->ip[15]);
  sink(m->use_candidate());
  sink(m->verify_integrity(std::string_view("VOkJxbRl1RmTxUk/WvJxBt")));
  sink(m->verify_fingerprint());

  // Rebuild what we understood and parse it back.
  std::array<uint8_t, 1024> out{};
  StunWriter w(out, m->type(), m->transaction_id_array());
  if (auto u = m->username()) w.add_username(*u);
  if (auto p = m->priority()) w.add_priority(*p);
  if (auto c = m->ice_controlling()) w.add_ice_controlling(*c);
  if (m->use_candidate()) w.add_use_candidate();
  if (auto a = m->xor_mapped_address()) w.add_xor_mapped_address(*a);
  if (auto e = m->error_code()) w.add_error_code(e->code, e->reason);
  w.add_message_integrity(std::string_view("key"));
  w.add_fingerprint();
  if (w.ok()) {
    auto back = StunMessage::parse(w.bytes());
    if (!back || !back->verify_integrity(std::string_view("key")) || !back->verify_fingerprint())
      std::abort();
    if (m->priority() && back->priority() != m->priority()) std::abort();
    if (m->xor_mapped_address() && back->xor_mapped_address() != m->xor_mapped_address()) std::abort();
  }
  return 0;
}
