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

bool LiveTraces::IsAck(const TraceArrival& arrival) {
  return arrival.report.armed() && arrival.report.stages().empty() &&
         arrival.report.error().empty();
}

bool LiveTraces::Complete(const std::vector<TraceArrival>& arrivals) {
  std::set<std::string> expected;
  std::set<std::string> answered;
  bool source = false;
  for (const TraceArrival& arrival : arrivals) {
    if (IsAck(arrival)) continue;
    answered.insert(arrival.tunnel_ip);
    if (!arrival.report.source()) continue;
    source = true;
    for (const auto& stage : arrival.report.stages()) {
      if (stage.stage() == "encapsulation" && !stage.tunnel_ip().empty()) {
        expected.insert(stage.tunnel_ip());
      }
    }
  }
  if (!source) return false;
  for (const std::string& tunnel_ip : expected) {
    if (!answered.contains(tunnel_ip)) return false;
  }
  return true;
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
  std::vector<TraceArrival> arrivals;
  for (TraceArrival& arrival : waiting_[order.trace_id()]) {
    if (!IsAck(arrival)) arrivals.push_back(std::move(arrival));
  }
  waiting_.erase(order.trace_id());
  return arrivals;
}

}  // namespace dove::controller
