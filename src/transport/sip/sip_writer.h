// Writing SIP messages (RFC 3261 §7, §8.2.6, §12.2.1.1): a response to a request, built from the request's
// Via, From, To, Call-ID and CSeq, and the requests a UAS sends within its dialog (BYE). The user agent
// keeps no parsed state between messages, only text, so everything here starts from text.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "transport/sip/sip_message.h"

namespace atrium::sip {

// Extra header fields, in order ("Contact", "<sip:...>").
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ResponseParts {
  int status = 200;
  std::string_view reason = "OK";
  std::string_view to_tag;  // added to To when the request's To has none (every response but 100)
  // Where the request came from: the top Via gets received= (and rport= when asked for), §18.2.1, RFC 3581.
  std::string_view received_ip;
  uint16_t received_port = 0;
  HeaderList headers;
  std::string_view content_type;  // with a body
  std::string_view body;
};

std::string write_response(const SipMessage& request, const ResponseParts& parts);

struct RequestParts {
  std::string_view method;       // "BYE"
  std::string_view request_uri;  // the remote target (the peer's Contact)
  std::string_view via_host;     // ours, for the Via sent-by
  uint16_t via_port = 0;
  std::string_view branch;  // "z9hG4bK..." (RFC 3261 magic cookie included)
  std::string_view from;    // our side of the dialog, with our tag
  std::string_view to;      // theirs, with their tag
  std::string_view call_id;
  uint32_t cseq = 1;
  HeaderList headers;
  std::string_view content_type;
  std::string_view body;
};

std::string write_request(const RequestParts& parts);

}  // namespace atrium::sip
