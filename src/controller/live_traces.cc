#include "controller/live_traces.h"

#include <algorithm>
#include <set>
#include <utility>

namespace dove::controller {

void LiveTraces::SetSender(Sender sender) {
  std::lock_guard lock(mu_);
  sender_ = std::move(sender);
}

void LiveTraces::Arrive(TraceArrival arrival) {
  {
    std::lock_guard lock(mu_);
    const auto it = waiting_.find(arrival.report.trace_id());
    if (it == waiting_.end()) {
      ++late_;
      return;
    }
    it->second.push_back(std::move(arrival));
  }
  cv_.notify_all();
}

uint64_t LiveTraces::late() const {
  std::lock_guard lock(mu_);
  return late_;
}

bool LiveTraces::IsAck(const TraceArrival& arrival) { return arrival.report.armed(); }

std::optional<std::set<std::string>> LiveTraces::EncapsulatedTo(
    const std::vector<TraceArrival>& arrivals) {
  for (const TraceArrival& arrival : arrivals) {
    if (IsAck(arrival) || !arrival.report.source()) continue;
    std::set<std::string> tunnel_ips;
    for (const auto& stage : arrival.report.stages()) {
      if (stage.stage() == "encapsulation" && !stage.tunnel_ip().empty()) {
        tunnel_ips.insert(stage.tunnel_ip());
      }
    }
    return tunnel_ips;
  }
  return std::nullopt;
}

bool LiveTraces::Complete(const std::vector<TraceArrival>& arrivals) {
  const auto expected = EncapsulatedTo(arrivals);
  if (!expected) return false;
  std::set<std::string> answered;
  for (const TraceArrival& arrival : arrivals) {
    // A report, or a watcher's refusal to watch: either way, nothing more comes from it.
    if (!IsAck(arrival) || !arrival.report.error().empty()) answered.insert(arrival.tunnel_ip);
  }
  return std::includes(answered.begin(), answered.end(), expected->begin(), expected->end());
}

Expected<std::vector<TraceArrival>, std::string> LiveTraces::Run(const std::string& source_switch,
                                                                 const v1::TraceOrder& order,
                                                                 std::chrono::milliseconds wait) {
  Sender sender;
  {
    std::lock_guard lock(mu_);
    if (!sender_) return Unexpected(std::string("this controller serves no switches"));
    sender = sender_;
    waiting_[order.trace_id()];  // before the order goes: a report may come at once
  }
  const auto started = std::chrono::steady_clock::now();
  const auto not_here = [&] {
    std::lock_guard lock(mu_);
    waiting_.erase(order.trace_id());
    return Unexpected("switch \"" + source_switch +
                      "\" has no stream to this controller (it is down, or another replica "
                      "serves it: ask that one)");
  };
  v1::TraceOrder step = order;
  step.set_inject(false);
  const auto watchers = sender(source_switch, step);
  if (!watchers) return not_here();
  {
    // Every watcher answers at once (armed, or why it cannot watch).
    const std::set<std::string> expected(watchers->begin(), watchers->end());
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kArmWait, [&] {
      std::set<std::string> answered;
      for (const TraceArrival& arrival : waiting_[order.trace_id()]) {
        answered.insert(arrival.switch_name);
      }
      return std::includes(answered.begin(), answered.end(), expected.begin(), expected.end());
    });
  }
  step.set_inject(true);
  if (!sender(source_switch, step)) return not_here();
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, started + wait, [&] { return Complete(waiting_[order.trace_id()]); });
  // The reports, and the refusals of the watchers the packet was sent to (the comparison says
  // why their part is missing); a refusal of a switch the packet never reached says nothing.
  std::vector<TraceArrival>& all = waiting_[order.trace_id()];
  const std::set<std::string> sent_to = EncapsulatedTo(all).value_or(std::set<std::string>());
  std::vector<TraceArrival> arrivals;
  for (TraceArrival& arrival : all) {
    const bool refused_where_sent =
        !arrival.report.error().empty() && sent_to.contains(arrival.tunnel_ip);
    if (!IsAck(arrival) || refused_where_sent) arrivals.push_back(std::move(arrival));
  }
  waiting_.erase(order.trace_id());
  return arrivals;
}

}  // namespace dove::controller
