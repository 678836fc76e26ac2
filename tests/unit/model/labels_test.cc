#include "model/labels.h"

#include <gtest/gtest.h>

#include <string>

namespace dove::model {
namespace {

google::protobuf::Map<std::string, std::string> Labels(
    std::initializer_list<std::pair<const char*, const char*>> items) {
  google::protobuf::Map<std::string, std::string> labels;
  for (const auto& [key, value] : items) labels[key] = value;
  return labels;
}

TEST(LabelsTest, KeysFollowTheirRules) {
  for (const char* good : {"a", "vm-uuid", "cni/container-id", "k8s.io_x", "0x", "A.b/c-d_e"}) {
    EXPECT_TRUE(ValidateLabelKey(good)) << good;
  }
  for (const char* bad : {"", "-a", "/a", ".a", "_a", "a b", "a=b", "a,b", "ä", "a:b"}) {
    auto result = ValidateLabelKey(bad);
    ASSERT_FALSE(result) << bad;
    EXPECT_EQ(result.error().code, "invalid_value");
  }
  EXPECT_TRUE(ValidateLabelKey(std::string(63, 'k')));
  auto long_key = ValidateLabelKey(std::string(64, 'k'));
  ASSERT_FALSE(long_key);
  EXPECT_NE(long_key.error().message.find("64 characters long; the limit is 63"),
            std::string::npos);
}

TEST(LabelsTest, ValuesArePrintableAsciiWithoutCommas) {
  for (const char* good : {"", "web", "4f2a-99", "a b c", "x=y", "52:54:00:00:00:01", "~!@#"}) {
    EXPECT_TRUE(ValidateLabelValue("k", good)) << good;
  }
  for (const char* bad : {"a,b", "tab\there", "new\nline", "\x7f", "caf\xc3\xa9"}) {
    auto result = ValidateLabelValue("k", bad);
    ASSERT_FALSE(result) << bad;
    EXPECT_EQ(result.error().code, "invalid_value");
    EXPECT_NE(result.error().message.find("\"k\""), std::string::npos) << result.error().message;
  }
  EXPECT_TRUE(ValidateLabelValue("k", std::string(253, 'v')));
  EXPECT_FALSE(ValidateLabelValue("k", std::string(254, 'v')));
}

TEST(LabelsTest, AnEndpointHoldsAtMost32) {
  google::protobuf::Map<std::string, std::string> labels;
  for (int i = 0; i < 32; ++i) labels["k" + std::to_string(i)] = "v";
  EXPECT_TRUE(ValidateLabels(labels));
  labels["k32"] = "v";
  auto result = ValidateLabels(labels);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("33 labels; the limit is 32"), std::string::npos);
  auto bad = ValidateLabels(Labels({{"ok", "1"}, {"bad key", "2"}}));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("\"bad key\""), std::string::npos);
}

TEST(LabelsTest, SelectorsParseAndMatch) {
  const auto labels = Labels({{"app", "web"}, {"tier", "front"}, {"empty", ""}});
  struct Case {
    const char* selector;
    bool matches;
  };
  for (const Case& c :
       {Case{"app=web", true}, Case{"app=db", false}, Case{"app", true}, Case{"tier", true},
        Case{"zone", false}, Case{"app=web,tier", true}, Case{"app=web,tier=back", false},
        Case{"empty=", true}, Case{"empty", true}, Case{"app=", false},
        Case{"app=web,app=web", true}, Case{"app=we", false}}) {
    auto selector = ParseLabelSelector(c.selector);
    ASSERT_TRUE(selector) << c.selector << ": " << selector.error().message;
    EXPECT_EQ(Matches(*selector, labels), c.matches) << c.selector;
  }
  auto parsed = ParseLabelSelector("a=b=c,d");
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].key, "a");
  EXPECT_EQ((*parsed)[0].value, "b=c");
  EXPECT_EQ((*parsed)[1].key, "d");
  EXPECT_FALSE((*parsed)[1].value.has_value());
}

TEST(LabelsTest, BadSelectorsAreRefusedWithWhatWasGiven) {
  struct Case {
    const char* selector;
    const char* message_part;
  };
  for (const Case& c :
       {Case{"", "empty"}, Case{",", "empty term"}, Case{"a,", "empty term"},
        Case{",a", "empty term"}, Case{"a,,b", "empty term"}, Case{"=v", "must not be empty"},
        Case{"bad key=v", "\"bad key\""}, Case{"k=\tv", "printable"}}) {
    auto selector = ParseLabelSelector(c.selector);
    ASSERT_FALSE(selector) << c.selector;
    EXPECT_EQ(selector.error().code, "invalid_value");
    EXPECT_NE(selector.error().message.find(c.message_part), std::string::npos)
        << c.selector << ": " << selector.error().message;
  }
}

}  // namespace
}  // namespace dove::model
