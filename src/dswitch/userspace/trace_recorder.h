// TraceRecorder: the datapath's side of live traces (dovectl trace --live; v1::TraceOrder in
// proto/dove/v1/switch.proto). It keeps one session per trace the switch takes part in, gives
// each a slot (packet.meta.trace), and is the pipeline's TraceSink: what the stages say about a
// traced packet becomes a v1::TraceStage of its session, a drop's stage named after its reason
// (StageOfDrop). The datapath injects the source's packets and intercepts what is traced on its
// way to a port; the recorder only keeps the sessions and their notes.
//
// A session ends, and its TraceReport goes to `report`, when it has been quiet for kSettle
// after a note that ends a packet's way here (a drop, a delivery, an answer, the encapsulation
// into the tunnel: Ends),
// or when its order's time is up; a receiver session (no inject) that saw nothing ends without
// a report. Markers: every open session's 16-byte marker is looked for in what arrives from the
// tunnel (Match) while any is open; no session open, no cost but one branch per batch.
//
// Not thread-safe: the datapath's loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "dove/v1/switch.pb.h"
#include "dswitch/pipeline/trace_sink.h"

namespace dove::dswitch::userspace {

class TraceRecorder final : public pipeline::TraceSink {
 public:
  using Clock = std::chrono::steady_clock;
  using Report = std::function<void(v1::TraceReport)>;
  static constexpr std::chrono::milliseconds kSettle{250};
  static constexpr size_t kMaxSessions = 64;
  static constexpr size_t kMaxNotes = 256;  // per session: a flood to many ports stays bounded

  // A session for `order` (its marker already checked: 16 bytes). Returns its slot, or 0 when
  // kMaxSessions are open (the caller refuses the order). `report` is called once, on the loop
  // thread, when the session ends.
  uint16_t Open(const v1::TraceOrder& order, Report report, Clock::time_point now);
  // The order of the open session `slot`, or null.
  const v1::TraceOrder* OrderOf(uint16_t slot) const;
  // Whether a session is open (the datapath checks this before anything else).
  bool active() const { return !sessions_.empty(); }
  // The slot of a session whose marker `bytes` contain, or 0.
  uint16_t Match(std::span<const uint8_t> bytes) const;

  // A note the datapath itself makes (the stages use Note through their Counters).
  void Add(uint16_t slot, pipeline::TraceNote note);
  // TraceSink: a stage's note about `packet`.
  void Note(const pipeline::Packet& packet, pipeline::TraceNote note) override;
  // Ends `slot` now with `error` (empty: normally) and sends its report.
  void Close(uint16_t slot, const std::string& error = {});
  // Ends the sessions that settled or timed out. Returns whether any is still open.
  bool Expire(Clock::time_point now);

  // The stage a drop of `reason` happens in, as TraceStage names them.
  static const char* StageOfDrop(pipeline::DropReason reason, const pipeline::Packet& packet);

 private:
  struct Session {
    v1::TraceOrder order;
    Report report;
    v1::TraceReport result;
    Clock::time_point deadline;
    Clock::time_point settle_at = Clock::time_point::max();
  };

  void Append(Session& session, pipeline::TraceNote note, Clock::time_point now);
  // Whether `note` ends where a packet goes on this switch.
  static bool Ends(const pipeline::TraceNote& note);

  std::map<uint16_t, Session> sessions_;
  uint16_t next_slot_ = 1;
  Clock::time_point now_{};
};

}  // namespace dove::dswitch::userspace
