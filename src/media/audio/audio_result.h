// What the audio wrappers return instead of throwing or logging: a value, or a sentence a user can read
// ("AAC: unsupported AudioSpecificConfig: ..."). The runtime decides whether and how to log it. The sentence
// is built only on failure, so the success path allocates nothing.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace atrium::media::audio {

template <class T>
class [[nodiscard]] AudioResult {
 public:
  AudioResult(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor): return a value
  static AudioResult failure(std::string message) {
    AudioResult r;
    r.error_ = std::move(message);
    return r;
  }

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const T& value() const { return *value_; }
  T& value() { return *value_; }
  const T& operator*() const { return *value_; }
  const T* operator->() const { return &*value_; }
  // Empty when ok().
  const std::string& error() const { return error_; }

 private:
  AudioResult() = default;
  std::optional<T> value_;
  std::string error_;
};

// Success or a sentence, for calls that produce no value.
class [[nodiscard]] AudioStatus {
 public:
  static AudioStatus success() { return AudioStatus(); }
  static AudioStatus failure(std::string message) {
    AudioStatus s;
    s.ok_ = false;
    s.error_ = std::move(message);
    return s;
  }
  template <class T>
  static AudioStatus from(const AudioResult<T>& r) {
    return r ? success() : failure(r.error());
  }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const std::string& error() const { return error_; }

 private:
  bool ok_ = true;
  std::string error_;
};

}  // namespace atrium::media::audio
