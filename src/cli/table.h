// Table: aligned text columns for people reading dovectl's output.
//
// Each column is as wide as its widest cell; columns are separated by two spaces; the last
// column is not padded (no trailing blanks). The header row is printed as given (upper case
// by convention). A table with no rows renders just the header, so an empty list still says
// what it would have listed. With no headers at all, only the rows are rendered: the
// "FIELD  value" layout of `show`. Rows shorter than the header are padded with empty cells.
//
//   Table table({"ID", "NAME"});
//   table.AddRow({"d-1", "acme"});
//   std::cout << table.Render();  // "ID   NAME\nd-1  acme\n"
#pragma once

#include <string>
#include <vector>

namespace dove::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  size_t row_count() const { return rows_.size(); }

  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace dove::cli
