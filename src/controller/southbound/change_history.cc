#include "controller/southbound/change_history.h"

#include <algorithm>
#include <utility>

namespace dove::controller::southbound {

void ChangeHistory::Start(int64_t revision) {
  notes_.clear();
  from_ = std::max<int64_t>(1, revision);
  last_ = from_ - 1;
}

void ChangeHistory::Note(int64_t revision, Kind kind, std::string id) {
  if (!started() || revision < from_ || revision < last_) return;
  notes_.push_back({revision, kind, std::move(id)});
  last_ = revision;
  while (notes_.size() > max_notes_) DropOldest();
}

void ChangeHistory::Reached(int64_t revision) {
  if (started()) last_ = std::max(last_, revision);
}

void ChangeHistory::Prepend(int64_t revision, std::vector<Older> older) {
  if (!started() || revision < 1 || revision > from_) return;
  if (older.size() + notes_.size() > max_notes_) return;
  for (const auto& note : older) {
    if (note.revision < revision || note.revision >= from_) return;
  }
  for (auto it = older.rbegin(); it != older.rend(); ++it) {
    notes_.push_front({it->revision, it->kind, std::move(it->id)});
  }
  from_ = revision;
}

void ChangeHistory::TrimBefore(int64_t revision) {
  if (!started() || revision <= from_) return;
  while (!notes_.empty() && notes_.front().revision < revision) notes_.pop_front();
  from_ = revision;
  last_ = std::max(last_, from_ - 1);
}

void ChangeHistory::DropOldest() {
  // Every note of the oldest revision goes, so the rest is complete from the next one.
  const int64_t oldest = notes_.front().revision;
  while (!notes_.empty() && notes_.front().revision == oldest) notes_.pop_front();
  from_ = oldest + 1;
}

std::optional<ChangeHistory::Changes> ChangeHistory::After(int64_t revision) const {
  if (!started() || revision + 1 < from_) return std::nullopt;
  Changes changes;
  auto first =
      std::upper_bound(notes_.begin(), notes_.end(), revision,
                       [](int64_t wanted, const Entry& entry) { return wanted < entry.revision; });
  for (auto it = first; it != notes_.end(); ++it) {
    switch (it->kind) {
      case Kind::kEndpoint:
        changes.endpoints.insert(it->id);
        break;
      case Kind::kSwitch:
        changes.switches.insert(it->id);
        break;
      case Kind::kPolicy:
        changes.policies = true;
        break;
      case Kind::kNetworkRemoved:
        changes.removed_networks.push_back(it->id);
        break;
    }
  }
  return changes;
}

}  // namespace dove::controller::southbound
