// ParseEtcdEndpoints: --etcd-endpoints into one gRPC target, and every way it refuses a list.
#include "store/etcd_endpoints.h"

#include <gtest/gtest.h>

#include <string>

namespace dove::store {
namespace {

TEST(EtcdEndpoints, AddressesOfOneFamilyBecomeOneTarget) {
  auto v4 = ParseEtcdEndpoints("http://127.0.0.1:2379,http://10.0.0.2:22379/");
  ASSERT_TRUE(v4) << v4.error().Describe();
  EXPECT_EQ(v4->target, "ipv4:127.0.0.1:2379,10.0.0.2:22379");
  EXPECT_FALSE(v4->tls);
  EXPECT_EQ(v4->urls.size(), 2u);
  auto v6 = ParseEtcdEndpoints("https://[::1]:2379,https://[2001:db8::2]:2379");
  ASSERT_TRUE(v6) << v6.error().Describe();
  EXPECT_EQ(v6->target, "ipv6:[::1]:2379,[2001:db8::2]:2379");
  EXPECT_TRUE(v6->tls);
  auto name = ParseEtcdEndpoints("https://etcd.example.net:2379");
  ASSERT_TRUE(name) << name.error().Describe();
  EXPECT_EQ(name->target, "dns:///etcd.example.net:2379");
}

TEST(EtcdEndpoints, RefusesWhatCannotBeDialled) {
  const char* bad[] = {
      "",
      ",",
      "127.0.0.1:2379",                                // no scheme
      "ftp://127.0.0.1:2379",                          // another scheme
      "http://127.0.0.1",                              // no port
      "http://127.0.0.1:0",                            // port 0
      "http://127.0.0.1:65536",                        // port too large
      "http://127.0.0.1:23a9",                         // not a number
      "http://127.0.0.1:2379/v3",                      // a path
      "http://[::1:2379",                              // unclosed bracket
      "http://[::1]",                                  // no port after the address
      "http://[127.0.0.1]:2379",                       // not IPv6 in brackets
      "http://127.0.0.1:2379,https://127.0.0.2:2379",  // mixed schemes
      "http://127.0.0.1:2379,http://[::1]:2379",       // mixed families
      "http://a.example:2379,http://b.example:2379",   // several names
      "http://127.0.0.1:2379,",                        // an empty entry
      "http://127.0.0.1 :2379",                        // a space
      "http://under_score:2379",                       // not a host name
  };
  for (const char* list : bad) {
    auto parsed = ParseEtcdEndpoints(list);
    EXPECT_FALSE(parsed) << list << " -> " << (parsed ? parsed->target : "");
    if (!parsed) {
      EXPECT_EQ(parsed.error().code, StoreError::kInvalidArgument) << list;
      EXPECT_NE(parsed.error().Describe().find("etcd endpoint"), std::string::npos) << list;
    }
  }
  const std::string with_nul("http://127.0.0.1\0x:2379", 23);
  EXPECT_FALSE(ParseEtcdEndpoints(with_nul));
}

}  // namespace
}  // namespace dove::store
