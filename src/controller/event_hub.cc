#include "controller/event_hub.h"

#include <poll.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/log.h"
#include "controller/store_keys.h"
#include "model/json.h"
#include "store/watch.h"

namespace dove::controller {
namespace {

using Clock = std::chrono::steady_clock;

std::string Event(std::string_view name, const std::string& data, int64_t id = 0) {
  std::string text;
  if (id > 0) text += "id: " + std::to_string(id) + "\n";
  text += "event: ";
  text += name;
  text += "\ndata: " + data + "\n\n";
  return text;
}

// The object a put stored, as the REST API prints it; "" when it does not decode.
template <typename T>
std::string ObjectJson(const std::string& value) {
  T object;
  if (!object.ParseFromString(value)) return "";
  auto text = model::ToJson(object);
  return text ? *text : "";
}

std::string ObjectJson(std::string_view kind, const std::string& value) {
  if (kind == Kind<v1::Domain>::kPlural) return ObjectJson<v1::Domain>(value);
  if (kind == Kind<v1::Network>::kPlural) return ObjectJson<v1::Network>(value);
  if (kind == Kind<v1::Subnet>::kPlural) return ObjectJson<v1::Subnet>(value);
  if (kind == Kind<v1::Endpoint>::kPlural) return ObjectJson<v1::Endpoint>(value);
  if (kind == Kind<v1::Switch>::kPlural) return ObjectJson<v1::Switch>(value);
  if (kind == Kind<v1::Policy>::kPlural) return ObjectJson<v1::Policy>(value);
  return "";
}

}  // namespace

EventHub::EventHub(Registry* registry, store::Store* store, EventHubOptions options)
    : registry_(registry), store_(store), options_(options), published_(registry->Revision()) {
  thread_ = std::thread([this] { Loop(); });
}

EventHub::~EventHub() {
  stopping_ = true;
  wake_.notify_all();
  thread_.join();
  const std::lock_guard lock(mutex_);
  for (auto& channel : subscribers_) channel->Close();
  subscribers_.clear();
}

void EventHub::SetStatsSource(std::function<SwitchCounters()> source) {
  const std::lock_guard lock(stats_mutex_);
  stats_source_ = std::move(source);
}

std::shared_ptr<http::StreamChannel> EventHub::Subscribe() {
  const std::lock_guard lock(mutex_);
  std::erase_if(subscribers_, [](const auto& channel) { return channel->closed(); });
  if (subscribers_.size() >= options_.max_subscribers) {
    ++refused_;
    return nullptr;
  }
  auto channel = std::make_shared<http::StreamChannel>(options_.client_buffer_bytes);
  channel->Push(Event("hello", R"({"revision":)" + std::to_string(published_) + "}"));
  subscribers_.push_back(channel);
  wake_.notify_all();  // the stats polls start with the first subscriber
  return channel;
}

EventHub::Stats EventHub::stats() const {
  const std::lock_guard lock(mutex_);
  Stats now;
  for (const auto& channel : subscribers_) now.subscribers += channel->closed() ? 0 : 1;
  now.events = events_;
  now.refused = refused_;
  return now;
}

void EventHub::AddMetrics(base::MetricsPage& page) const {
  const Stats now = stats();
  page.Gauge("dove_events_subscribers", "Clients of GET /v1/events now.").Add({}, now.subscribers);
  page.Counter("dove_events_published_total", "Events published to GET /v1/events.")
      .Add({}, now.events);
  page.Counter("dove_events_refused_total", "Subscriptions refused: too many open.")
      .Add({}, now.refused);
}

void EventHub::Broadcast(const std::string& text) {
  std::erase_if(subscribers_, [&text](const auto& channel) { return !channel->Push(text); });
}

void EventHub::PublishChanges(const std::vector<store::Event>& events) {
  std::string text;
  uint64_t count = 0;
  int64_t last = 0;
  for (const store::Event& event : events) {
    last = std::max(last, event.kv.mod_revision);
    if (IsBookkeepingKey(event.kv.key)) continue;
    const auto key = ParseKey(event.kv.key);
    if (!key) continue;
    nlohmann::json head = {{"revision", event.kv.mod_revision},
                           {"kind", key->kind},
                           {"op", event.type == store::Event::kPut ? "put" : "delete"},
                           {"id", key->id}};
    std::string data = head.dump();
    if (event.type == store::Event::kPut) {
      const std::string object = ObjectJson(key->kind, event.kv.value);
      if (object.empty()) continue;  // not a kind of the model; the registry logs bad values
      data.pop_back();
      data += R"(,"object":)" + object + "}";
    }
    text += Event("change", data, event.kv.mod_revision);
    ++count;
  }
  const std::lock_guard lock(mutex_);
  if (!text.empty()) Broadcast(text);
  events_ += count;
  published_ = std::max(published_, last);
}

void EventHub::PublishStats() {
  SwitchCounters now;
  {
    const std::lock_guard lock(stats_mutex_);
    if (!stats_source_) return;
    now = stats_source_();
  }
  nlohmann::json items = nlohmann::json::array();
  nlohmann::json removed = nlohmann::json::array();
  for (const auto& [name, counters] : now) {
    auto before = last_stats_.find(name);
    if (before != last_stats_.end() && before->second == counters) continue;
    items.push_back({{"switch_name", name}, {"counters", counters}});
  }
  for (const auto& [name, counters] : last_stats_) {
    if (now.count(name) == 0) removed.push_back(name);
  }
  last_stats_ = std::move(now);
  if (items.empty() && removed.empty()) return;
  const nlohmann::json data = {{"items", items}, {"removed", removed}};
  const std::lock_guard lock(mutex_);
  Broadcast(Event("stats", data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  ++events_;
}

void EventHub::Loop() {
  std::unique_ptr<store::Watch> watch;
  int64_t from = 0;
  {
    const std::lock_guard lock(mutex_);
    from = published_ + 1;
  }
  Clock::time_point next_stats = Clock::now();
  Clock::time_point next_keepalive = Clock::now() + options_.keepalive;
  const auto wait = std::min(options_.stats_interval, std::chrono::milliseconds(200));
  while (!stopping_.load()) {
    if (!watch) {
      auto started = store_->StartWatch(std::string(kKeyPrefix), from);
      if (!started) {
        DOVE_LOG(kWarning) << "events: "
                           << "cannot watch the store: " + started.error().Describe();
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, wait, [this] { return stopping_.load(); });
        continue;
      }
      watch = std::move(*started);
    }
    pollfd poll_fd{watch->fd(), POLLIN, 0};
    ::poll(&poll_fd, 1, static_cast<int>(wait.count()));
    auto events = watch->Poll();
    if (events) {
      from = watch->next_revision();
      if (!events->empty()) {
        int64_t last = 0;
        for (const auto& event : *events) last = std::max(last, event.kv.mod_revision);
        // The store notifies at commit; a client reading the API on the event must see it.
        if (!registry_->WaitForRevision(last, std::chrono::seconds(5))) {
          DOVE_LOG(kWarning) << "events: "
                             << "the registry did not reach revision " + std::to_string(last) +
                                    " within 5 s";
        }
        PublishChanges(*events);
      }
    } else if (events.error().code == store::StoreError::kClosed) {
      return;
    } else {
      DOVE_LOG(kWarning) << "events: "
                         << "store watch: " + events.error().Describe() +
                                "; subscribers read everything again";
      watch.reset();
      const int64_t now = registry_->Revision();
      from = now + 1;
      const std::lock_guard lock(mutex_);
      published_ = now;
      Broadcast(Event("resync", R"({"revision":)" + std::to_string(now) + "}"));
      ++events_;
    }
    const Clock::time_point now = Clock::now();
    bool subscribed = false;
    {
      const std::lock_guard lock(mutex_);
      subscribed = !subscribers_.empty();
      if (now >= next_keepalive) {
        next_keepalive = now + options_.keepalive;
        Broadcast(": keepalive\n\n");
      }
    }
    if (subscribed && now >= next_stats) {
      next_stats = now + options_.stats_interval;
      PublishStats();
    }
  }
}

}  // namespace dove::controller
