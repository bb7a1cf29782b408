// The typed field reader of SDK requests: wrong types are an error sentence naming the field, null is absent
// (except for any-JSON fields), and nothing throws (issue 13, part 7).
#include "transport/sdk/json_fields.h"

#include <gtest/gtest.h>

namespace atrium::sdk {
namespace {

using nlohmann::json;

TEST(JsonFields, ReadsEachTypeAndNamesTheFirstWrongField) {
  const json r = {{"room", "lobby"}, {"n", 7}, {"flag", true}, {"obj", {{"a", 1}}}};
  JsonFields f(r);
  EXPECT_EQ(f.string("room"), "lobby");
  EXPECT_EQ(f.unsigned_integer("n", 10), 7u);
  EXPECT_EQ(f.boolean("flag"), true);
  EXPECT_NE(f.object("obj"), nullptr);
  EXPECT_EQ(f.string("absent"), std::nullopt);
  EXPECT_TRUE(f.ok());

  JsonFields g(r);
  EXPECT_EQ(g.string("n"), std::nullopt);
  EXPECT_EQ(g.string("obj"), std::nullopt);  // a second problem does not replace the first
  EXPECT_FALSE(g.ok());
  EXPECT_EQ(g.error(), "\"n\" must be a string");
}

TEST(JsonFields, EveryWrongTypeIsAnErrorNotAnException) {
  for (const json& bad : {json(5), json::array({1}), json::object({{"x", 1}}), json(1.5), json(true)}) {
    const json r = {{"room", bad}};
    JsonFields f(r);
    EXPECT_NO_THROW(f.required_string("room"));
    EXPECT_EQ(f.error(), "\"room\" must be a string") << bad.dump();
  }
  const json r = {{"room", "x"}};
  JsonFields f(r);
  EXPECT_EQ(f.boolean("room"), std::nullopt);
  EXPECT_EQ(f.error(), "\"room\" must be true or false");
}

TEST(JsonFields, NullIsAbsentExceptForAnyJsonFields) {
  const json r = {{"peers", nullptr}, {"meta", nullptr}, {"room", nullptr}};
  JsonFields f(r);
  EXPECT_EQ(f.string("peers"), std::nullopt);
  EXPECT_TRUE(f.ok());  // optional and null: absent
  ASSERT_NE(f.any("meta"), nullptr);
  EXPECT_TRUE(f.any("meta")->is_null());
  EXPECT_EQ(f.any("data"), nullptr);
  f.required_string("room");  // required and null: missing
  EXPECT_EQ(f.error(), "\"room\" must be a string");
}

TEST(JsonFields, IntegersAreWholeAndInRange) {
  const json r = {{"ok", 255}, {"big", 256}, {"neg", -1}, {"frac", 2.5}, {"huge", 1e300}};
  for (const char* key : {"big", "neg", "frac", "huge"}) {
    JsonFields f(r);
    EXPECT_EQ(f.unsigned_integer(key, 255), std::nullopt) << key;
    EXPECT_EQ(f.error(), "\"" + std::string(key) + "\" must be a whole number from 0 to 255");
  }
  JsonFields f(r);
  EXPECT_EQ(f.unsigned_integer("ok", 255), 255u);
}

TEST(JsonFields, IdIsANumberOrAString) {
  for (const json& id : {json(1), json("a")}) {
    const json r = {{"id", id}};
    JsonFields f(r);
    EXPECT_EQ(f.id(), id);
    EXPECT_TRUE(f.ok());
  }
  const json r = {{"id", json::array()}};
  JsonFields f(r);
  EXPECT_TRUE(f.id().is_null());
  EXPECT_EQ(f.error(), "\"id\" must be a number or a string");
}

}  // namespace
}  // namespace atrium::sdk
