// Waiting on a store in tests: polling with a deadline, never a fixed sleep.
#pragma once

#include <chrono>
#include <string>
#include <thread>

#include "store/store.h"

namespace dove::store {

// Polls Get until the key is gone; false if it is still there after `within`.
inline bool WaitUntilGone(Store& store, const std::string& key, std::chrono::seconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    auto got = store.Get(key);
    if (!got && got.error().code == StoreError::kNotFound) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace dove::store
