// The topology page's files (src/controller/ui/: index.html, app.js, style.css), embedded in
// dove-controller at build time: CMake generates ui_assets_data.cc from them
// (cmake/embed_files.cmake), so an installed binary serves GET /ui/ with no file beside it.
// Read-only data, thread-safe.
//
//   const UiFile* file = FindUiFile("app.js");  // nullptr when there is none
#pragma once

#include <string_view>

namespace dove::controller {

struct UiFile {
  std::string_view name;  // "app.js"
  std::string_view content_type;
  std::string_view body;
};

// The file called `name` (no directories), or nullptr.
const UiFile* FindUiFile(std::string_view name);

}  // namespace dove::controller
