// The "resume" object of a join (docs/protocol.md, "Resuming"): the session id and secret with which a
// client that lost its connection takes its session back.
#pragma once

#include <optional>
#include <string>

#include "transport/sdk/json_fields.h"

namespace atrium::sdk {

struct ResumeRequest {
  std::string session;
  std::string secret;
  std::string error;  // names a missing or mistyped field of the object ("" when both are strings)
};

// Reads it through `join`, the reader of the join request: nullopt when the join resumes nothing (when
// "resume" is there but not an object, `join` has the error).
inline std::optional<ResumeRequest> read_resume(JsonFields& join) {
  const nlohmann::json* object = join.object("resume");
  if (!object) return std::nullopt;
  JsonFields fields(*object);
  ResumeRequest r;
  r.session = fields.required_string("session");
  r.secret = fields.required_string("secret");
  r.error = fields.error();
  return r;
}

}  // namespace atrium::sdk
