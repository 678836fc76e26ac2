// How each kind of object is shown, and the list/show/create/delete steps every kind shares.
//
// A Columns value names a kind's table columns and renders one object as a row; `list` prints
// one row per object under the header, `show` and `create` print the object as FIELD/value
// lines (the same columns, transposed). With -o json the server's JSON is printed instead:
// the object, the items array of a list, the {"deleted","revision"} answer of a delete.
// Ids of domains and networks are shown as their names where the Resolver can find them.
//
//   return ListObjects(ctx, "/v1/domains" + Query({{"name", name}}), DomainColumns());
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/context.h"
#include "cli/resolver.h"

namespace dove::cli {

struct Columns {
  std::vector<std::string> headers;
  std::function<std::vector<std::string>(const nlohmann::json&, Resolver&)> row;
};

Columns DomainColumns();
Columns NetworkColumns();
Columns SubnetColumns();
Columns EndpointColumns();
Columns SwitchColumns();
Columns PolicyColumns();

// Prints `object` (one created or fetched) as -o asks: JSON, or FIELD/value lines.
void PrintObject(Context& ctx, const nlohmann::json& object, const Columns& columns);

// GET `path` (a collection, with its query) and print the items. Returns the exit code.
int ListObjects(Context& ctx, const std::string& path, const Columns& columns);
// GET `path` (one object) and print it.
int ShowObject(Context& ctx, const std::string& path, const Columns& columns);
// POST `body` to `collection` and print the created object.
int CreateObject(Context& ctx, const std::string& collection, const nlohmann::json& body,
                 const Columns& columns);
// GET `path` (one object), let `change` edit it, PUT it back and print the object as stored.
// `change` returns 0, or the exit code of a refusal it reported (nothing is written then).
// The object's version rides along (endpoints have one), so a write that raced with another
// client's is refused (409 stale version): the read, change and write are then redone from
// the newer object, at most kUpdateAttempts times in all. Kinds without a version are
// last-writer-wins between two concurrent updates.
inline constexpr int kUpdateAttempts = 3;
int UpdateObject(Context& ctx, const std::string& path,
                 const std::function<int(nlohmann::json&)>& change, const Columns& columns);
// DELETE `path` (with ?force=true when `force`) and print what was deleted.
int DeleteObject(Context& ctx, const std::string& path, bool force);

}  // namespace dove::cli
