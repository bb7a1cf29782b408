// AudioSpecificConfig parsing: real configs as FLV sequence headers carry them, and the ones we refuse.
#include "media/audio/audio_specific_config.h"

#include <gtest/gtest.h>

#include <vector>

namespace atrium::media::audio {
namespace {

// MSB-first bit writer to spell configs field by field.
class Bits {
 public:
  Bits& put(uint32_t value, unsigned bits) {
    for (unsigned i = bits; i-- > 0;) {
      if (n_ % 8 == 0) bytes_.push_back(0);
      if ((value >> i) & 1u) bytes_.back() = static_cast<uint8_t>(bytes_.back() | (0x80u >> (n_ % 8)));
      ++n_;
    }
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
  size_t n_ = 0;
};

TEST(AudioSpecificConfig, AacLc44100Stereo) {
  const std::vector<uint8_t> asc = {0x12, 0x10};
  auto c = parse_audio_specific_config(asc);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->object_type, 2);
  EXPECT_EQ(c->frequency_index, 4);
  EXPECT_EQ(c->sample_rate, 44100u);
  EXPECT_EQ(c->channel_config, 2);
  EXPECT_EQ(c->channels, 2);
  EXPECT_EQ(c->output_sample_rate(), 44100u);
  EXPECT_EQ(aac_object_type_name(c->object_type), "AAC-LC");
}

TEST(AudioSpecificConfig, AacLc48000Mono) {
  const std::vector<uint8_t> asc = {0x11, 0x88};
  auto c = parse_audio_specific_config(asc);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->object_type, 2);
  EXPECT_EQ(c->sample_rate, 48000u);
  EXPECT_EQ(c->channels, 1);
  EXPECT_EQ(c->output_channels(), 1);
}

TEST(AudioSpecificConfig, ExplicitFrequency) {
  Bits b;
  b.put(2, 5).put(15, 4).put(44100, 24).put(2, 4);
  auto c = parse_audio_specific_config(b.bytes());
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->frequency_index, 15);
  EXPECT_EQ(c->sample_rate, 44100u);
  EXPECT_EQ(c->channels, 2);
}

TEST(AudioSpecificConfig, ObjectTypeEscape) {
  Bits b;  // 31 + 6 bits (7) = 39, AAC-ELD, 48 kHz mono
  b.put(31, 5).put(7, 6).put(3, 4).put(1, 4);
  auto c = parse_audio_specific_config(b.bytes());
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->object_type, 39);
  EXPECT_EQ(c->sample_rate, 48000u);
  EXPECT_EQ(c->channels, 1);
}

TEST(AudioSpecificConfig, HeAacExplicitSbr) {
  Bits b;  // SBR, core 24 kHz, 48 kHz after SBR, stereo, core AAC-LC
  b.put(5, 5).put(6, 4).put(2, 4).put(3, 4).put(2, 5);
  auto c = parse_audio_specific_config(b.bytes());
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->object_type, 5);
  EXPECT_EQ(c->core_object_type, 2);
  EXPECT_EQ(c->sample_rate, 24000u);
  EXPECT_EQ(c->output_sample_rate(), 48000u);
}

TEST(AudioSpecificConfig, ParametricStereoIsStereoOut) {
  Bits b;  // PS, 24 kHz mono core, 48 kHz after SBR
  b.put(29, 5).put(6, 4).put(1, 4).put(3, 4).put(2, 5);
  auto c = parse_audio_specific_config(b.bytes());
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->channels, 1);
  EXPECT_EQ(c->output_channels(), 2);
}

TEST(AudioSpecificConfig, SevenMeansEightChannels) {
  Bits b;
  b.put(2, 5).put(3, 4).put(7, 4);
  auto c = parse_audio_specific_config(b.bytes());
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->channels, 8);
}

void expect_error(const std::vector<uint8_t>& asc, const std::string& sentence) {
  auto c = parse_audio_specific_config(asc);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), sentence);
}

TEST(AudioSpecificConfig, ChannelConfigZeroIsRefused) {
  expect_error(
      {0x12, 0x00},
      "AAC: unsupported AudioSpecificConfig: channel configuration 0 (program config element) is not "
      "supported");
}

TEST(AudioSpecificConfig, ReservedFrequencyIndexIsRefused) {
  for (uint32_t index : {13u, 14u}) {
    Bits b;
    b.put(2, 5).put(index, 4).put(2, 4);
    expect_error(b.bytes(), "AAC: unsupported AudioSpecificConfig: sampling frequency index " +
                                std::to_string(index) + " is reserved");
  }
}

TEST(AudioSpecificConfig, ExplicitFrequencyOutOfRangeIsRefused) {
  Bits b;
  b.put(2, 5).put(15, 4).put(0, 24).put(2, 4);
  expect_error(b.bytes(),
               "AAC: unsupported AudioSpecificConfig: sampling frequency 0 Hz is outside 7350 to 96000 Hz");
}

TEST(AudioSpecificConfig, UnsupportedObjectTypesAreNamed) {
  Bits usac;
  usac.put(31, 5).put(10, 6).put(3, 4).put(2, 4);
  expect_error(usac.bytes(),
               "AAC: unsupported AudioSpecificConfig: USAC (xHE-AAC) (object type 42) is not supported");
  Bits zero;
  zero.put(0, 5).put(3, 4).put(2, 4);
  expect_error(zero.bytes(),
               "AAC: unsupported AudioSpecificConfig: object type 0 is not an audio object type");
}

TEST(AudioSpecificConfig, ReservedChannelConfigIsRefused) {
  Bits b;
  b.put(2, 5).put(3, 4).put(9, 4);
  expect_error(b.bytes(), "AAC: unsupported AudioSpecificConfig: channel configuration 9 is reserved");
}

TEST(AudioSpecificConfig, TruncatedIsRefused) {
  expect_error({}, "AAC: unsupported AudioSpecificConfig: it is shorter than 2 bytes");
  expect_error({0x12}, "AAC: unsupported AudioSpecificConfig: it is shorter than 2 bytes");
  Bits b;  // explicit frequency cut short
  b.put(2, 5).put(15, 4).put(1, 7);
  expect_error(b.bytes(),
               "AAC: unsupported AudioSpecificConfig: it ends inside the explicit sampling frequency");
}

}  // namespace
}  // namespace atrium::media::audio
