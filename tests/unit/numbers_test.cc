#include "core/numbers.h"

#include <gtest/gtest.h>

#include <limits>

namespace bpfnet::core {
namespace {

TEST(NumbersTest, ParsesDigitsUpToTheMaximum) {
  EXPECT_EQ(parse_decimal("0", 10), 0u);
  EXPECT_EQ(parse_decimal("8080", 65535), 8080u);
  EXPECT_EQ(parse_decimal("65535", 65535), 65535u);
  EXPECT_EQ(parse_decimal("65536", 65535), std::nullopt);
  EXPECT_EQ(parse_decimal("7", 0), std::nullopt);
}

TEST(NumbersTest, RefusesAnythingButDigits) {
  for (const char* text : {"", "-1", "+1", " 1", "1 ", "1a", "0x10", "1.5"})
    EXPECT_EQ(parse_decimal(text, 1000), std::nullopt) << text;
}

TEST(NumbersTest, NeverOverflows) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(parse_decimal("18446744073709551615", max), max);
  EXPECT_EQ(parse_decimal("18446744073709551616", max), std::nullopt);
  EXPECT_EQ(parse_decimal("99999999999999999999999999", max), std::nullopt);
}

TEST(NumbersTest, LeadingZeroes) {
  EXPECT_EQ(parse_decimal("080", 255), 80u);
  EXPECT_EQ(parse_decimal("080", 255, LeadingZero::kRefused), std::nullopt);
  EXPECT_EQ(parse_decimal("0", 255, LeadingZero::kRefused), 0u);
  EXPECT_EQ(parse_decimal("10", 255, LeadingZero::kRefused), 10u);
}

TEST(NumbersTest, Primes) {
  for (uint64_t n : {0, 1, 4, 9, 15, 16380, 65535}) EXPECT_FALSE(is_prime(n)) << n;
  for (uint64_t n : {2, 3, 5, 251, 16381, 65537, 131071}) EXPECT_TRUE(is_prime(n)) << n;
}

}  // namespace
}  // namespace bpfnet::core
