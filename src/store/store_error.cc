#include "store/store_error.h"

namespace dove::store {

std::string_view StoreErrorName(StoreError::Code code) {
  switch (code) {
    case StoreError::kCompacted:
      return "compacted";
    case StoreError::kNotFound:
      return "not_found";
    case StoreError::kIo:
      return "io";
    case StoreError::kCorrupt:
      return "corrupt";
    case StoreError::kInvalidArgument:
      return "invalid_argument";
    case StoreError::kClosed:
      return "closed";
    case StoreError::kLocked:
      return "locked";
    case StoreError::kUnsupportedSchema:
      return "unsupported_schema";
    case StoreError::kUnavailable:
      return "unavailable";
    case StoreError::kAccessDenied:
      return "access_denied";
  }
  return "unknown";
}

std::string StoreError::Describe() const {
  std::string what;
  switch (code) {
    case kCompacted:
      what =
          "the requested history has been compacted; read a full snapshot and watch from its "
          "revision";
      break;
    case kNotFound:
      what = "the key does not exist";
      break;
    case kIo:
      what = "the store could not read or write its database";
      break;
    case kCorrupt:
      what = "the store's database is damaged or is not a DOVE store";
      break;
    case kInvalidArgument:
      what = "the request is invalid";
      break;
    case kClosed:
      what = "the store is closed";
      break;
    case kLocked:
      what = "the data directory is in use by another controller";
      break;
    case kUnsupportedSchema:
      what = "the data directory was written by a newer version of DOVE";
      break;
    case kUnavailable:
      what = "the store's server cannot be reached or did not answer in time";
      break;
    case kAccessDenied:
      what = "the store's server refused this controller's credentials or permissions";
      break;
  }
  if (message.empty()) return what;
  return what + " (" + message + ")";
}

}  // namespace dove::store
