// Fuzzes ParseEtcdEndpoints (--etcd-endpoints) and the etcd store's option check: whatever
// parses names at least one http(s) URL, gives a target gRPC can dial (one family of
// literal addresses, or one DNS name), and parses again, joined back, to the same target.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/etcd_endpoints.h"
#include "store/etcd_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto parsed = dove::store::ParseEtcdEndpoints(text)) {
    if (parsed->urls.empty()) std::abort();
    const std::string& target = parsed->target;
    if (!target.starts_with("ipv4:") && !target.starts_with("ipv6:") &&
        !target.starts_with("dns:///")) {
      std::abort();
    }
    std::string joined;
    for (const std::string& url : parsed->urls) {
      if (!url.starts_with(parsed->tls ? "https://" : "http://")) std::abort();
      joined += (joined.empty() ? "" : ",") + url;
    }
    auto again = dove::store::ParseEtcdEndpoints(joined);
    if (!again || again->target != target || again->tls != parsed->tls) std::abort();
  } else if (parsed.error().code != dove::store::StoreError::kInvalidArgument) {
    std::abort();
  }
  dove::store::EtcdStore::Options options;
  options.key_prefix = std::string(text);
  if (auto valid = dove::store::EtcdStore::ValidateOptions(options)) {
    if (!options.key_prefix.starts_with('/') || !options.key_prefix.ends_with('/')) std::abort();
  }
  return 0;
}
