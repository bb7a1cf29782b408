// The response to a signalling request (docs/protocol.md): {"type": "response", "id", "ok", "result" or
// "error": {"code", "message"}}, as text to send. Written by the session, by the HTTP side for requests it
// answers before a worker has the connection, and by the worker for resumes.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace atrium::sdk {

inline std::string ok_response(const nlohmann::json& id, nlohmann::json result) {
  return nlohmann::json{{"type", "response"}, {"id", id}, {"ok", true}, {"result", std::move(result)}}.dump();
}

inline std::string error_response(const nlohmann::json& id, std::string_view code, std::string_view message) {
  return nlohmann::json{
      {"type", "response"}, {"id", id}, {"ok", false}, {"error", {{"code", code}, {"message", message}}}}
      .dump();
}

}  // namespace atrium::sdk
