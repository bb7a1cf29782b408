// AMF0 (Adobe AMF0 specification): the encoding of RTMP command and data messages. A small value type, a
// decoder with a nesting and value-count limit, and an encoder that appends to a byte vector.
//
// Decoded: number, boolean, string, long string (as a string), object, null, undefined, ECMA array, strict
// array, date, and the object end that closes objects and ECMA arrays. Rejected (decode error): movie clip,
// reference, record set, XML document, typed object, AVM+ (AMF3) switch, and unknown markers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atrium::rtmp {

enum class Amf0Marker : uint8_t {
  kNumber = 0x00,
  kBoolean = 0x01,
  kString = 0x02,
  kObject = 0x03,
  kMovieClip = 0x04,
  kNull = 0x05,
  kUndefined = 0x06,
  kReference = 0x07,
  kEcmaArray = 0x08,
  kObjectEnd = 0x09,
  kStrictArray = 0x0A,
  kDate = 0x0B,
  kLongString = 0x0C,
  kUnsupported = 0x0D,
  kRecordSet = 0x0E,
  kXmlDocument = 0x0F,
  kTypedObject = 0x10,
  kAvmPlus = 0x11,
};

struct Amf0Property;

struct Amf0Value {
  enum class Type : uint8_t {
    kUndefined,
    kNull,
    kNumber,
    kBoolean,
    kString,
    kObject,
    kEcmaArray,
    kStrictArray,
    kDate
  };

  Type type = Type::kUndefined;
  double number = 0;          // kNumber; kDate: milliseconds since 1970-01-01 UTC
  int16_t date_timezone = 0;  // kDate: the reserved time-zone field, kept for round trips
  bool boolean = false;
  std::string string;                    // kString (short or long on the wire)
  std::vector<Amf0Property> properties;  // kObject, kEcmaArray, in wire order
  std::vector<Amf0Value> elements;       // kStrictArray

  static Amf0Value make_number(double v);
  static Amf0Value make_boolean(bool v);
  static Amf0Value make_string(std::string v);
  static Amf0Value make_null();
  static Amf0Value make_object();  // add properties with set()

  bool is_number() const { return type == Type::kNumber; }
  bool is_string() const { return type == Type::kString; }
  bool is_object_like() const { return type == Type::kObject || type == Type::kEcmaArray; }

  // The first property named `key` of an object or ECMA array; nullptr when absent or not an object.
  const Amf0Value* get(std::string_view key) const;
  // Appends a property (object / ECMA array).
  Amf0Value& set(std::string key, Amf0Value value);
  // Convenience reads: the property as a string / number when it is one.
  std::optional<std::string_view> get_string(std::string_view key) const;
  std::optional<double> get_number(std::string_view key) const;
};

struct Amf0Property {
  std::string key;
  Amf0Value value;
};

bool operator==(const Amf0Property& a, const Amf0Property& b);
bool operator==(const Amf0Value& a, const Amf0Value& b);

// Reads values one after the other from a message body. The first error stops the reader for good.
class Amf0Reader {
 public:
  explicit Amf0Reader(std::span<const uint8_t> data) : data_(data) {}

  // The next value; nullopt at the end or on an error (then error() is non-empty).
  std::optional<Amf0Value> read();
  // Every remaining value; stops at the first error.
  std::vector<Amf0Value> read_all();

  bool at_end() const { return pos_ >= data_.size(); }
  size_t position() const { return pos_; }
  std::string_view error() const { return error_; }

 private:
  bool read_value(Amf0Value& out, int depth);
  bool read_properties(std::vector<Amf0Property>& out, int depth);
  bool read_utf8(std::string& out, size_t length_bytes);
  bool fail(std::string_view why);

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  size_t values_ = 0;
  std::string_view error_;
};

// Appends AMF0 to a byte vector. Strings longer than 65535 bytes become long strings.
class Amf0Writer {
 public:
  explicit Amf0Writer(std::vector<uint8_t>& out) : out_(out) {}

  void number(double v);
  void boolean(bool v);
  void string(std::string_view v);
  void null();
  void undefined();
  void object_begin();
  void ecma_array_begin(uint32_t count_hint);
  void key(std::string_view name);  // inside an object or ECMA array, before its value
  void object_end();
  void value(const Amf0Value& v);  // any value, recursively

 private:
  void raw_string(std::string_view v);  // 16-bit length + bytes, no marker

  std::vector<uint8_t>& out_;
};

}  // namespace atrium::rtmp
