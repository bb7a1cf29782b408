#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "transport/rtmp/amf0.h"
#include "transport/rtmp/rtmp_limits.h"

namespace atrium::rtmp {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes encode(const Amf0Value& v) {
  Bytes out;
  Amf0Writer(out).value(v);
  return out;
}

Amf0Value round_trip(const Amf0Value& v) {
  const Bytes b = encode(v);
  Amf0Reader r(b);
  auto back = r.read();
  EXPECT_TRUE(back.has_value()) << r.error();
  EXPECT_TRUE(r.at_end());
  return back.value_or(Amf0Value{});
}

TEST(RtmpAmf0, ScalarsRoundTrip) {
  for (const Amf0Value& v :
       {Amf0Value::make_number(0), Amf0Value::make_number(-1.5), Amf0Value::make_number(1e300),
        Amf0Value::make_boolean(true), Amf0Value::make_boolean(false), Amf0Value::make_string(""),
        Amf0Value::make_string("connect"), Amf0Value::make_null(), Amf0Value{}}) {
    EXPECT_EQ(round_trip(v), v);
  }
  Amf0Value date;
  date.type = Amf0Value::Type::kDate;
  date.number = 1700000000000.0;
  date.date_timezone = -60;
  EXPECT_EQ(round_trip(date), date);
}

TEST(RtmpAmf0, KnownEncodings) {
  EXPECT_EQ(encode(Amf0Value::make_number(1)), (Bytes{0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(encode(Amf0Value::make_string("ab")), (Bytes{0x02, 0x00, 0x02, 'a', 'b'}));
  EXPECT_EQ(encode(Amf0Value::make_boolean(true)), (Bytes{0x01, 0x01}));
  auto obj = Amf0Value::make_object();
  obj.set("a", Amf0Value::make_null());
  EXPECT_EQ(encode(obj), (Bytes{0x03, 0x00, 0x01, 'a', 0x05, 0x00, 0x00, 0x09}));
}

TEST(RtmpAmf0, LongStringBothWays) {
  const std::string big(70000, 'x');
  const Bytes b = encode(Amf0Value::make_string(big));
  EXPECT_EQ(b[0], 0x0C);
  EXPECT_EQ(round_trip(Amf0Value::make_string(big)).string, big);
}

TEST(RtmpAmf0, NestedContainersRoundTrip) {
  auto inner = Amf0Value::make_object();
  inner.set("code", Amf0Value::make_string("NetStream.Publish.Start")).set("n", Amf0Value::make_number(3));
  Amf0Value ecma;
  ecma.type = Amf0Value::Type::kEcmaArray;
  ecma.set("width", Amf0Value::make_number(640)).set("inner", inner);
  Amf0Value arr;
  arr.type = Amf0Value::Type::kStrictArray;
  arr.elements = {Amf0Value::make_number(1), ecma, Amf0Value::make_null()};
  auto top = Amf0Value::make_object();
  top.set("list", arr).set("flag", Amf0Value::make_boolean(true));
  const Amf0Value back = round_trip(top);
  EXPECT_EQ(back, top);
  EXPECT_EQ(back.get("list")->elements[1].get_number("width"), 640);
  EXPECT_EQ(back.get("list")->elements[1].get("inner")->get_string("code"), "NetStream.Publish.Start");
  EXPECT_EQ(back.get("missing"), nullptr);
}

TEST(RtmpAmf0, ReadsSeveralValuesInARow) {
  Bytes b;
  Amf0Writer w(b);
  w.string("_result");
  w.number(1);
  w.null();
  w.ecma_array_begin(99);  // a wrong count is only a hint
  w.key("k");
  w.string("v");
  w.object_end();
  Amf0Reader r(b);
  auto all = r.read_all();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_TRUE(r.error().empty());
  EXPECT_EQ(all[3].get_string("k"), "v");
}

TEST(RtmpAmf0, UnterminatedEcmaArrayAtTheEndIsAccepted) {
  const Bytes b = {0x08, 0, 0, 0, 1, 0x00, 0x01, 'a', 0x05};
  Amf0Reader r(b);
  auto v = r.read();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->properties.size(), 1u);
}

TEST(RtmpAmf0, NestingLimit) {
  // kMaxAmf0Depth objects inside each other decode; one more does not.
  auto nested = [](int depth) {
    Bytes b;
    for (int i = 0; i < depth; ++i) {
      b.push_back(0x03);
      b.insert(b.end(), {0x00, 0x01, 'x'});
    }
    b.push_back(0x05);
    for (int i = 0; i < depth; ++i)
      b.insert(b.end(), {0x00, 0x00, 0x09});
    return b;
  };
  {
    const Bytes b = nested(kMaxAmf0Depth);
    Amf0Reader r(b);
    EXPECT_TRUE(r.read().has_value()) << r.error();
  }
  {
    const Bytes b = nested(kMaxAmf0Depth + 1);
    Amf0Reader r(b);
    EXPECT_FALSE(r.read().has_value());
    EXPECT_FALSE(r.error().empty());
  }
  // Strict arrays nest the same way.
  Bytes arrays;
  for (int i = 0; i < 1000; ++i)
    arrays.insert(arrays.end(), {0x0A, 0, 0, 0, 1});
  arrays.push_back(0x05);
  Amf0Reader r(arrays);
  EXPECT_FALSE(r.read().has_value());
}

TEST(RtmpAmf0, ValueCountLimit) {
  Bytes b = {0x0A, 0x00, 0x01, 0x00, 0x00};  // strict array of 65536 nulls
  b.insert(b.end(), 65536, 0x05);
  Amf0Reader r(b);
  EXPECT_FALSE(r.read().has_value());
  EXPECT_FALSE(r.error().empty());
}

TEST(RtmpAmf0, MalformedInputsFailCleanly) {
  for (const Bytes& b : std::vector<Bytes>{
           {0x00, 1, 2},                    // truncated number
           {0x02, 0x00, 0x05, 'a'},         // string past the end
           {0x0C, 0xFF, 0xFF, 0xFF, 0xFF},  // long string past the end
           {0x0A, 0xFF, 0xFF, 0xFF, 0xFF},  // strict array count past the end
           {0x03, 0x00},                    // truncated key
           {0x09},                          // object end alone
           {0x07, 0x00, 0x01},              // reference: unsupported
           {0x10},                          // typed object: unsupported
           {0x11},                          // AMF3 switch: unsupported
           {0x42},                          // unknown marker
       }) {
    Amf0Reader r(b);
    EXPECT_FALSE(r.read().has_value());
    EXPECT_FALSE(r.error().empty()) << int{b[0]};
    EXPECT_FALSE(r.read().has_value());  // stays failed
  }
}

}  // namespace
}  // namespace atrium::rtmp
