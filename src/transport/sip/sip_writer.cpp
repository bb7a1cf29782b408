#include "transport/sip/sip_writer.h"

namespace atrium::sip {
namespace {

void field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

void finish(std::string& out, const HeaderList& headers, std::string_view content_type,
            std::string_view body) {
  for (const auto& [name, value] : headers)
    field(out, name, value);
  if (!body.empty()) field(out, "Content-Type", content_type.empty() ? "application/sdp" : content_type);
  field(out, "Content-Length", std::to_string(body.size()));
  out.append("\r\n");
  out.append(body);
}

}  // namespace

std::string write_response(const SipMessage& request, const ResponseParts& parts) {
  std::string out;
  out.reserve(512 + parts.body.size());
  out.append("SIP/2.0 ");
  out.append(std::to_string(parts.status));
  out.push_back(' ');
  out.append(parts.reason);
  out.append("\r\n");
  bool first_via = true;
  request.each_value("Via", [&](std::string_view via) {
    if (!first_via || parts.received_ip.empty()) {
      field(out, "Via", via);
      return;
    }
    first_via = false;
    // rport (RFC 3581): a bare ";rport" in the request asks for the source port back.
    std::string v;
    const auto rport = via.find(";rport");
    const bool bare_rport =
        rport != std::string_view::npos && (rport + 6 == via.size() || via[rport + 6] == ';');
    if (bare_rport) {
      v.append(via.substr(0, rport + 6));
      v.append("=" + std::to_string(parts.received_port));
      v.append(via.substr(rport + 6));
    } else {
      v.append(via);
    }
    v.append(";received=");
    v.append(parts.received_ip);
    field(out, "Via", v);
  });
  field(out, "From", request.header("From").value_or(""));
  std::string to(request.header("To").value_or(""));
  if (request.to_tag().empty() && !parts.to_tag.empty() && parts.status > 100)
    to += ";tag=" + std::string(parts.to_tag);
  field(out, "To", to);
  field(out, "Call-ID", request.call_id());
  field(out, "CSeq", request.header("CSeq").value_or(""));
  field(out, "Server", "atrium");
  finish(out, parts.headers, parts.content_type, parts.body);
  return out;
}

std::string write_request(const RequestParts& parts) {
  std::string out;
  out.reserve(512 + parts.body.size());
  out.append(parts.method);
  out.push_back(' ');
  out.append(parts.request_uri);
  out.append(" SIP/2.0\r\n");
  field(out, "Via",
        "SIP/2.0/UDP " + std::string(parts.via_host) + ":" + std::to_string(parts.via_port) +
            ";branch=" + std::string(parts.branch) + ";rport");
  field(out, "Max-Forwards", "70");
  field(out, "From", parts.from);
  field(out, "To", parts.to);
  field(out, "Call-ID", parts.call_id);
  field(out, "CSeq", std::to_string(parts.cseq) + " " + std::string(parts.method));
  field(out, "User-Agent", "atrium");
  finish(out, parts.headers, parts.content_type, parts.body);
  return out;
}

}  // namespace atrium::sip
