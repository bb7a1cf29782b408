// Typed reads of a signalling request's fields (docs/protocol.md, "Field types"). A client controls every
// value, so nothing here throws: a field of the wrong type leaves an error sentence that names it (the first
// one found), which the caller answers with INVALID_ARGUMENT or BAD_REQUEST. The rule for null: a field that
// is null counts as absent (so an optional field takes its default and a required one is missing); only the
// fields that carry any JSON (`meta`, `data`) keep a null as their value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace atrium::sdk {

class JsonFields {
 public:
  // `object` must be a JSON object and outlive this reader.
  explicit JsonFields(const nlohmann::json& object) : object_(object) {}

  // Optional fields: nullopt when absent or null, and also when of another type (then error() says so).
  std::optional<std::string> string(std::string_view key) {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) return fail(key, "a string");
    return v->get<std::string>();
  }
  std::optional<bool> boolean(std::string_view key) {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) return fail(key, "true or false");
    return v->get<bool>();
  }
  // A whole number from 0 to `max` (JSON numbers with a fraction or an exponent that made them floating point
  // are refused, as are negative ones).
  std::optional<uint64_t> unsigned_integer(std::string_view key, uint64_t max) {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    // Parsed non-negative integers are unsigned in nlohmann::json, ones built in C++ may be signed.
    const bool whole = v->is_number_unsigned() || (v->is_number_integer() && v->get<int64_t>() >= 0);
    if (!whole || v->get<uint64_t>() > max)
      return fail(key, "a whole number from 0 to " + std::to_string(max));
    return v->get<uint64_t>();
  }
  // An object (e.g. `resume`); nullptr when absent, null or not an object (then error() says so).
  const nlohmann::json* object(std::string_view key) {
    const auto* v = find(key);
    if (!v) return nullptr;
    if (v->is_object()) return v;
    fail(key, "an object");
    return nullptr;
  }
  // A field of any JSON type, null included (`meta`, `data`); nullptr only when absent.
  const nlohmann::json* any(std::string_view key) const {
    auto it = object_.find(std::string(key));
    return it == object_.end() ? nullptr : &*it;
  }

  // Required string: absent or null is an error too.
  std::string required_string(std::string_view key) {
    auto s = string(key);
    if (!s && ok()) fail(key, "a string");
    return s.value_or(std::string());
  }

  // The request's `id`: a number or a string, echoed in the response; null when absent, null, or of another
  // type (an error then).
  nlohmann::json id() {
    const auto* v = find("id");
    if (!v) return nullptr;
    if (v->is_number() || v->is_string()) return *v;
    fail("id", "a number or a string");
    return nullptr;
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  const nlohmann::json* find(std::string_view key) const {
    auto it = object_.find(std::string(key));
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }
  std::nullopt_t fail(std::string_view key, const std::string& what) {
    if (error_.empty()) error_ = "\"" + std::string(key) + "\" must be " + what;
    return std::nullopt;
  }

  const nlohmann::json& object_;
  std::string error_;
};

}  // namespace atrium::sdk
