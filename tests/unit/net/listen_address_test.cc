// ListenAddress: "HOST:PORT" parsing, loopback detection, formatting.
#include "net/listen_address.h"

#include <gtest/gtest.h>

namespace dove::net {
namespace {

TEST(ListenAddressTest, ParsesIpv4Ipv6AndLocalhost) {
  auto v4 = ParseListenAddress("127.0.0.1:8740");
  ASSERT_TRUE(v4) << v4.error();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8740);
  auto v6 = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_TRUE(ParseListenAddress("localhost:1"));
  EXPECT_TRUE(ParseListenAddress("0.0.0.0:8741"));
}

TEST(ListenAddressTest, RefusesMalformed) {
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", ":8740", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x",
        "::1:8740", "[::1:8740", "[1.2.3.4]:1", "example.com:80", "300.0.0.1:80"}) {
    auto parsed = ParseListenAddress(bad);
    EXPECT_FALSE(parsed) << bad;
    if (!parsed) {
      EXPECT_NE(parsed.error().find("invalid listen address"), std::string::npos);
    }
  }
}

TEST(ListenAddressTest, LoopbackAndFormat) {
  EXPECT_TRUE(IsLoopback("127.0.0.1"));
  EXPECT_TRUE(IsLoopback("127.9.9.9"));
  EXPECT_TRUE(IsLoopback("::1"));
  EXPECT_TRUE(IsLoopback("localhost"));
  EXPECT_FALSE(IsLoopback("0.0.0.0"));
  EXPECT_FALSE(IsLoopback("::"));
  EXPECT_FALSE(IsLoopback("10.0.0.1"));
  EXPECT_EQ(FormatHostPort("::1", 80), "[::1]:80");
  EXPECT_EQ(FormatHostPort("10.0.0.1", 80), "10.0.0.1:80");
}

}  // namespace
}  // namespace dove::net
