// Bytes as one SIP datagram: SipMessage::parse must refuse or parse, never crash or read out of bounds, and
// whatever it parses must hold together (every view inside the input, the body within Content-Length).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "transport/sip/sip_message.h"
#include "transport/sip/sip_uri.h"

namespace {
bool inside(std::string_view outer, std::string_view v) {
  return v.empty() || (v.data() >= outer.data() && v.data() + v.size() <= outer.data() + outer.size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto m = atrium::sip::SipMessage::parse(in, &error);
  if (!m) {
    if (error.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  if (!inside(in, m->method()) || !inside(in, m->request_uri()) || !inside(in, m->body())) std::abort();
  for (const auto& h : m->headers())
    if (!inside(in, h.name) || !inside(in, h.value)) std::abort();
  size_t values = 0;
  m->each_value("Via", [&](std::string_view v) {
    if (!inside(in, v)) std::abort();
    ++values;
  });
  (void)m->via_branch();
  (void)m->from_tag();
  (void)m->to_tag();
  (void)m->cseq_method();
  (void)atrium::sip::unfolded(m->top_via());
  // The URIs a call is routed and named by.
  if (auto uri = atrium::sip::parse_sip_uri(m->request_uri())) {
    if (!inside(in, uri->user) || !inside(in, uri->host) || !inside(in, uri->params)) std::abort();
    (void)atrium::sip::uri_param(*uri, "transport");
  }
  for (const char* h : {"From", "To", "Contact"}) {
    const auto v = m->header(h).value_or("");
    (void)atrium::sip::parse_sip_uri(atrium::sip::addr_spec(v));
    if (!inside(in, atrium::sip::display_name(v))) std::abort();
  }
  (void)values;
  return 0;
}
