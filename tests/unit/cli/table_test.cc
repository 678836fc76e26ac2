#include "cli/table.h"

#include <gtest/gtest.h>

namespace dove::cli {
namespace {

TEST(TableTest, AlignsColumnsToTheWidestCell) {
  Table table({"ID", "NAME", "VNI"});
  table.AddRow({"d-1", "acme", "7"});
  table.AddRow({"d-22222", "x", "100"});
  EXPECT_EQ(table.Render(),
            "ID       NAME  VNI\n"
            "d-1      acme  7\n"
            "d-22222  x     100\n");
}

TEST(TableTest, EmptyTableIsJustTheHeader) {
  Table table({"ID", "NAME"});
  EXPECT_EQ(table.Render(), "ID  NAME\n");
  EXPECT_EQ(table.row_count(), 0u);
}

TEST(TableTest, NoTrailingBlanksEvenWithEmptyLastCells) {
  Table table({"A", "B"});
  table.AddRow({"long-value", ""});
  EXPECT_EQ(table.Render(), "A           B\nlong-value\n");
}

TEST(TableTest, ShortRowsArePadded) {
  Table table({"A", "B", "C"});
  table.AddRow({"1"});
  table.AddRow({"1", "2", "3"});
  EXPECT_EQ(table.Render(), "A  B  C\n1\n1  2  3\n");
}

TEST(TableTest, WithoutHeadersOnlyRows) {
  Table table({});
  table.AddRow({"ID", "d-1"});
  table.AddRow({"NAME", "acme"});
  EXPECT_EQ(table.Render(), "ID    d-1\nNAME  acme\n");
}

}  // namespace
}  // namespace dove::cli
