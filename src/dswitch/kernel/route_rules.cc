#include "dswitch/kernel/route_rules.h"

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

namespace dove::dswitch::kernel {
namespace {

std::string Describe(const RouteRule& rule) {
  std::string text = rule.ipv6 ? "ipv6 rule pref " : "ipv4 rule pref ";
  text += std::to_string(rule.priority);
  if (rule.fwmark != 0) text += " fwmark " + std::to_string(rule.fwmark);
  return text + " lookup " + std::to_string(rule.table);
}

}  // namespace

struct RouteRules::Socket {
  ~Socket() {
    if (nl != nullptr) mnl_socket_close(nl);
  }
  mnl_socket* nl = nullptr;
  uint32_t port = 0;
  uint32_t seq = static_cast<uint32_t>(std::time(nullptr));
};

Expected<std::unique_ptr<RouteRules>, std::string> RouteRules::Open() {
  std::unique_ptr<RouteRules> rules(new RouteRules());
  rules->socket_ = std::make_unique<Socket>();
  rules->socket_->nl = mnl_socket_open(NETLINK_ROUTE);
  if (rules->socket_->nl == nullptr) {
    return Unexpected("open netlink socket: " + std::string(std::strerror(errno)));
  }
  if (mnl_socket_bind(rules->socket_->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    return Unexpected("bind netlink socket: " + std::string(std::strerror(errno)));
  }
  rules->socket_->port = mnl_socket_get_portid(rules->socket_->nl);
  return rules;
}

RouteRules::~RouteRules() = default;

namespace {

// Sends the request in `buffer` and runs the answers through `callback` until the kernel's
// ack or the end of a dump. Returns 0 or an errno value.
int Exchange(mnl_socket* nl, uint32_t port, nlmsghdr* request, mnl_cb_t callback, void* data) {
  if (mnl_socket_sendto(nl, request, request->nlmsg_len) < 0) return errno;
  std::vector<char> answer(MNL_SOCKET_BUFFER_SIZE);
  while (true) {
    const ssize_t n = mnl_socket_recvfrom(nl, answer.data(), answer.size());
    if (n < 0) return errno;
    const int rc =
        mnl_cb_run(answer.data(), static_cast<size_t>(n), request->nlmsg_seq, port, callback, data);
    if (rc == MNL_CB_ERROR) return errno;
    if (rc == MNL_CB_STOP) return 0;
  }
}

nlmsghdr* RuleRequest(char* buffer, uint16_t type, uint16_t flags, uint32_t seq,
                      const RouteRule& rule) {
  nlmsghdr* header = mnl_nlmsg_put_header(buffer);
  header->nlmsg_type = type;
  header->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  header->nlmsg_seq = seq;
  auto* body = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(header, sizeof(fib_rule_hdr)));
  body->family = rule.ipv6 ? AF_INET6 : AF_INET;
  body->action = FR_ACT_TO_TBL;
  body->table = rule.table < 256 ? static_cast<uint8_t>(rule.table) : uint8_t{RT_TABLE_UNSPEC};
  mnl_attr_put_u32(header, FRA_PRIORITY, rule.priority);
  mnl_attr_put_u32(header, FRA_TABLE, rule.table);
  if (rule.fwmark != 0) {
    mnl_attr_put_u32(header, FRA_FWMARK, rule.fwmark);
    mnl_attr_put_u32(header, FRA_FWMASK, 0xffffffff);
  }
  return header;
}

int ParseAttribute(const nlattr* attribute, void* data) {
  auto* rule = static_cast<RouteRule*>(data);
  if (mnl_attr_validate(attribute, MNL_TYPE_U32) < 0) return MNL_CB_OK;
  switch (mnl_attr_get_type(attribute)) {
    case FRA_PRIORITY:
      rule->priority = mnl_attr_get_u32(attribute);
      break;
    case FRA_TABLE:
      rule->table = mnl_attr_get_u32(attribute);
      break;
    case FRA_FWMARK:
      rule->fwmark = mnl_attr_get_u32(attribute);
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

int ParseRule(const nlmsghdr* header, void* data) {
  auto* rules = static_cast<std::vector<RouteRule>*>(data);
  if (mnl_nlmsg_get_payload_len(header) < sizeof(fib_rule_hdr)) return MNL_CB_OK;
  const auto* body = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(header));
  RouteRule rule{
      .ipv6 = body->family == AF_INET6, .priority = 0, .table = body->table, .fwmark = 0};
  mnl_attr_parse(header, sizeof(fib_rule_hdr), ParseAttribute, &rule);
  rules->push_back(rule);
  return MNL_CB_OK;
}

}  // namespace

Expected<void, std::string> RouteRules::Add(const RouteRule& rule) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* request =
      RuleRequest(buffer.data(), RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, ++socket_->seq, rule);
  const int error = Exchange(socket_->nl, socket_->port, request, nullptr, nullptr);
  if (error != 0 && error != EEXIST) {
    return Unexpected("add " + Describe(rule) + ": " + std::strerror(error));
  }
  return {};
}

Expected<void, std::string> RouteRules::Delete(const RouteRule& rule) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* request = RuleRequest(buffer.data(), RTM_DELRULE, 0, ++socket_->seq, rule);
  const int error = Exchange(socket_->nl, socket_->port, request, nullptr, nullptr);
  if (error != 0 && error != ENOENT) {
    return Unexpected("delete " + Describe(rule) + ": " + std::strerror(error));
  }
  return {};
}

Expected<std::vector<RouteRule>, std::string> RouteRules::List(bool ipv6) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* request = mnl_nlmsg_put_header(buffer.data());
  request->nlmsg_type = RTM_GETRULE;
  request->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request->nlmsg_seq = ++socket_->seq;
  auto* body =
      static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(request, sizeof(fib_rule_hdr)));
  body->family = ipv6 ? AF_INET6 : AF_INET;
  std::vector<RouteRule> rules;
  const int error = Exchange(socket_->nl, socket_->port, request, ParseRule, &rules);
  if (error != 0) return Unexpected(std::string("list rules: ") + std::strerror(error));
  return rules;
}

}  // namespace dove::dswitch::kernel
