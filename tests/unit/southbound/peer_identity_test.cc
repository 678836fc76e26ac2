// PeerIdentity: which Hello names a client certificate allows, and the refusal's sentence.
#include "controller/southbound/peer_identity.h"

#include <gtest/gtest.h>

namespace dove::controller::southbound {
namespace {

TEST(PeerIdentityTest, AllowsItsCommonNameAndAltNamesOnly) {
  const PeerIdentity identity{.common_name = "sw-a", .alt_names = {"sw-a.lab", "sw-alias"}};
  struct Case {
    const char* claimed;
    bool allowed;
  };
  for (const Case& c :
       {Case{"sw-a", true}, Case{"sw-a.lab", true}, Case{"sw-alias", true}, Case{"sw-b", false},
        Case{"SW-A", false}, Case{"sw-a ", false}, Case{"", false}}) {
    EXPECT_EQ(identity.Allows(c.claimed), c.allowed) << "\"" << c.claimed << "\"";
  }
}

TEST(PeerIdentityTest, ACertificateWithoutNamesAllowsNothing) {
  const PeerIdentity nameless;
  EXPECT_FALSE(nameless.Allows(""));
  EXPECT_FALSE(nameless.Allows("sw-a"));
  EXPECT_NE(nameless.RefusalFor("sw-a").find("no name"), std::string::npos);
}

TEST(PeerIdentityTest, RefusalNamesTheClaimAndTheCertificate) {
  const PeerIdentity identity{.common_name = "sw-a", .alt_names = {"sw-a.lab"}};
  EXPECT_EQ(identity.RefusalFor("sw-b"),
            "switch name \"sw-b\" is not a name of its client certificate (CN=sw-a, SAN "
            "sw-a.lab)");
}

}  // namespace
}  // namespace dove::controller::southbound
