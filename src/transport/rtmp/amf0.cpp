#include "transport/rtmp/amf0.h"

#include <bit>
#include <cstring>

#include "media/rtp/bytes.h"
#include "transport/rtmp/rtmp_limits.h"

namespace atrium::rtmp {

namespace bytes = media::bytes;

Amf0Value Amf0Value::make_number(double v) {
  Amf0Value out;
  out.type = Type::kNumber;
  out.number = v;
  return out;
}
Amf0Value Amf0Value::make_boolean(bool v) {
  Amf0Value out;
  out.type = Type::kBoolean;
  out.boolean = v;
  return out;
}
Amf0Value Amf0Value::make_string(std::string v) {
  Amf0Value out;
  out.type = Type::kString;
  out.string = std::move(v);
  return out;
}
Amf0Value Amf0Value::make_null() {
  Amf0Value out;
  out.type = Type::kNull;
  return out;
}
Amf0Value Amf0Value::make_object() {
  Amf0Value out;
  out.type = Type::kObject;
  return out;
}

const Amf0Value* Amf0Value::get(std::string_view key) const {
  if (!is_object_like()) return nullptr;
  for (const Amf0Property& p : properties)
    if (p.key == key) return &p.value;
  return nullptr;
}

Amf0Value& Amf0Value::set(std::string key, Amf0Value value) {
  properties.push_back(Amf0Property{std::move(key), std::move(value)});
  return *this;
}

std::optional<std::string_view> Amf0Value::get_string(std::string_view key) const {
  const Amf0Value* v = get(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->string);
}

std::optional<double> Amf0Value::get_number(std::string_view key) const {
  const Amf0Value* v = get(key);
  if (!v || !v->is_number()) return std::nullopt;
  return v->number;
}

bool operator==(const Amf0Property& a, const Amf0Property& b) {
  return a.key == b.key && a.value == b.value;
}

bool operator==(const Amf0Value& a, const Amf0Value& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case Amf0Value::Type::kUndefined:
    case Amf0Value::Type::kNull:
      return true;
    case Amf0Value::Type::kNumber:
      return std::bit_cast<uint64_t>(a.number) == std::bit_cast<uint64_t>(b.number);
    case Amf0Value::Type::kDate:
      return std::bit_cast<uint64_t>(a.number) == std::bit_cast<uint64_t>(b.number) &&
             a.date_timezone == b.date_timezone;
    case Amf0Value::Type::kBoolean:
      return a.boolean == b.boolean;
    case Amf0Value::Type::kString:
      return a.string == b.string;
    case Amf0Value::Type::kObject:
    case Amf0Value::Type::kEcmaArray:
      return a.properties == b.properties;
    case Amf0Value::Type::kStrictArray:
      return a.elements == b.elements;
  }
  return false;
}

// ---- reader ----

bool Amf0Reader::fail(std::string_view why) {
  if (error_.empty()) error_ = why;
  pos_ = data_.size();
  return false;
}

std::optional<Amf0Value> Amf0Reader::read() {
  if (!error_.empty() || at_end()) return std::nullopt;
  Amf0Value v;
  if (!read_value(v, 0)) return std::nullopt;
  return v;
}

std::vector<Amf0Value> Amf0Reader::read_all() {
  std::vector<Amf0Value> out;
  while (auto v = read())
    out.push_back(std::move(*v));
  return out;
}

bool Amf0Reader::read_utf8(std::string& out, size_t length_bytes) {
  if (data_.size() - pos_ < length_bytes) return fail("AMF0: truncated string length");
  const size_t len = length_bytes == 2 ? bytes::read16(data_, pos_) : bytes::read32(data_, pos_);
  pos_ += length_bytes;
  if (data_.size() - pos_ < len) return fail("AMF0: string longer than the message");
  out.assign(reinterpret_cast<const char*>(data_.data() + pos_), len);
  pos_ += len;
  return true;
}

bool Amf0Reader::read_properties(std::vector<Amf0Property>& out, int depth) {
  for (;;) {
    // An ECMA array some encoders leave unterminated at the very end of the message: accept it.
    if (at_end()) return true;
    Amf0Property p;
    if (!read_utf8(p.key, 2)) return false;
    if (p.key.empty() && pos_ < data_.size() && data_[pos_] == static_cast<uint8_t>(Amf0Marker::kObjectEnd)) {
      ++pos_;
      return true;
    }
    if (!read_value(p.value, depth + 1)) return false;
    out.push_back(std::move(p));
  }
}

bool Amf0Reader::read_value(Amf0Value& out, int depth) {
  if (depth > kMaxAmf0Depth) return fail("AMF0: values nested too deep");
  if (++values_ > kMaxAmf0Values) return fail("AMF0: too many values in one message");
  if (at_end()) return fail("AMF0: value expected");
  const auto marker = static_cast<Amf0Marker>(data_[pos_++]);
  switch (marker) {
    case Amf0Marker::kNumber:
    case Amf0Marker::kDate: {
      const size_t need = marker == Amf0Marker::kDate ? 10 : 8;
      if (data_.size() - pos_ < need) return fail("AMF0: truncated number");
      out.type = marker == Amf0Marker::kDate ? Amf0Value::Type::kDate : Amf0Value::Type::kNumber;
      out.number = std::bit_cast<double>(bytes::read64(data_, pos_));
      if (marker == Amf0Marker::kDate)
        out.date_timezone = static_cast<int16_t>(bytes::read16(data_, pos_ + 8));
      pos_ += need;
      return true;
    }
    case Amf0Marker::kBoolean:
      if (at_end()) return fail("AMF0: truncated boolean");
      out.type = Amf0Value::Type::kBoolean;
      out.boolean = data_[pos_++] != 0;
      return true;
    case Amf0Marker::kString:
    case Amf0Marker::kLongString:
      out.type = Amf0Value::Type::kString;
      return read_utf8(out.string, marker == Amf0Marker::kString ? 2 : 4);
    case Amf0Marker::kObject:
      out.type = Amf0Value::Type::kObject;
      return read_properties(out.properties, depth);
    case Amf0Marker::kEcmaArray:
      // The count is a hint only (encoders get it wrong); the end marker closes the array.
      if (data_.size() - pos_ < 4) return fail("AMF0: truncated ECMA array");
      pos_ += 4;
      out.type = Amf0Value::Type::kEcmaArray;
      return read_properties(out.properties, depth);
    case Amf0Marker::kStrictArray: {
      if (data_.size() - pos_ < 4) return fail("AMF0: truncated strict array");
      const uint32_t count = bytes::read32(data_, pos_);
      pos_ += 4;
      out.type = Amf0Value::Type::kStrictArray;
      // Each element takes at least a byte: a count beyond what is left is a lie, caught without reserving.
      if (count > data_.size() - pos_) return fail("AMF0: strict array longer than the message");
      for (uint32_t i = 0; i < count; ++i) {
        out.elements.emplace_back();
        if (!read_value(out.elements.back(), depth + 1)) return false;
      }
      return true;
    }
    case Amf0Marker::kNull:
      out.type = Amf0Value::Type::kNull;
      return true;
    case Amf0Marker::kUndefined:
    case Amf0Marker::kUnsupported:
      out.type = Amf0Value::Type::kUndefined;
      return true;
    case Amf0Marker::kObjectEnd:
      return fail("AMF0: object end outside an object");
    default:
      return fail("AMF0: unsupported type (reference, typed object, XML, AMF3 or unknown)");
  }
}

// ---- writer ----

namespace {
void put(std::vector<uint8_t>& out, uint8_t b) {
  out.push_back(b);
}
void put_be(std::vector<uint8_t>& out, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i)
    out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
}  // namespace

void Amf0Writer::number(double v) {
  put(out_, static_cast<uint8_t>(Amf0Marker::kNumber));
  put_be(out_, std::bit_cast<uint64_t>(v), 8);
}

void Amf0Writer::boolean(bool v) {
  put(out_, static_cast<uint8_t>(Amf0Marker::kBoolean));
  put(out_, v ? 1 : 0);
}

void Amf0Writer::raw_string(std::string_view v) {
  put_be(out_, v.size(), 2);
  out_.insert(out_.end(), v.begin(), v.end());
}

void Amf0Writer::string(std::string_view v) {
  if (v.size() > 0xFFFF) {
    put(out_, static_cast<uint8_t>(Amf0Marker::kLongString));
    put_be(out_, v.size(), 4);
    out_.insert(out_.end(), v.begin(), v.end());
    return;
  }
  put(out_, static_cast<uint8_t>(Amf0Marker::kString));
  raw_string(v);
}

void Amf0Writer::null() {
  put(out_, static_cast<uint8_t>(Amf0Marker::kNull));
}
void Amf0Writer::undefined() {
  put(out_, static_cast<uint8_t>(Amf0Marker::kUndefined));
}
void Amf0Writer::object_begin() {
  put(out_, static_cast<uint8_t>(Amf0Marker::kObject));
}
void Amf0Writer::ecma_array_begin(uint32_t count_hint) {
  put(out_, static_cast<uint8_t>(Amf0Marker::kEcmaArray));
  put_be(out_, count_hint, 4);
}
void Amf0Writer::key(std::string_view name) {
  raw_string(name.substr(0, 0xFFFF));
}
void Amf0Writer::object_end() {
  put_be(out_, 0, 2);
  put(out_, static_cast<uint8_t>(Amf0Marker::kObjectEnd));
}

void Amf0Writer::value(const Amf0Value& v) {
  switch (v.type) {
    case Amf0Value::Type::kUndefined:
      return undefined();
    case Amf0Value::Type::kNull:
      return null();
    case Amf0Value::Type::kNumber:
      return number(v.number);
    case Amf0Value::Type::kBoolean:
      return boolean(v.boolean);
    case Amf0Value::Type::kString:
      return string(v.string);
    case Amf0Value::Type::kDate:
      put(out_, static_cast<uint8_t>(Amf0Marker::kDate));
      put_be(out_, std::bit_cast<uint64_t>(v.number), 8);
      put_be(out_, static_cast<uint16_t>(v.date_timezone), 2);
      return;
    case Amf0Value::Type::kObject:
    case Amf0Value::Type::kEcmaArray:
      if (v.type == Amf0Value::Type::kObject)
        object_begin();
      else
        ecma_array_begin(static_cast<uint32_t>(v.properties.size()));
      for (const Amf0Property& p : v.properties) {
        key(p.key);
        value(p.value);
      }
      object_end();
      return;
    case Amf0Value::Type::kStrictArray:
      put(out_, static_cast<uint8_t>(Amf0Marker::kStrictArray));
      put_be(out_, v.elements.size(), 4);
      for (const Amf0Value& e : v.elements)
        value(e);
      return;
  }
}

}  // namespace atrium::rtmp
