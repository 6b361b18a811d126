// The catalog: selections come back in catalog order, an unknown name is refused with the
// valid ones listed, and --scenario/--mode accept repeats and comma lists.
#include "bench/suite/suite_catalog.h"

#include "common/cli/flag_set.h"
#include "gtest/gtest.h"

namespace weft::bench {
namespace {

TEST(SuiteCatalogTest, SelectionKeepsCatalogOrder) {
  absl::StatusOr<std::vector<ModeSpec>> modes = SelectModes({"stunnel", "direct"});
  ASSERT_TRUE(modes.ok());
  ASSERT_EQ(modes->size(), 2u);
  EXPECT_EQ((*modes)[0].name, "direct");
  EXPECT_EQ((*modes)[1].name, "stunnel");
  EXPECT_EQ(SelectModes({})->size(), 6u);
}

TEST(SuiteCatalogTest, UnknownNamesAreRefusedWithTheValidOnes) {
  absl::StatusOr<std::vector<ScenarioSpec>> s = SelectScenarios({"rr_1KiB_c1", "rr_2KiB"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("unknown scenario \"rr_2KiB\""), absl::string_view::npos);
  EXPECT_NE(s.status().message().find("bulk_c8"), absl::string_view::npos);
}

TEST(SuiteCatalogTest, TheIssueScenariosAreAllThere) {
  std::vector<std::string> names;
  for (const ScenarioSpec& s : AllScenarios()) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"rr_1B_c1", "rr_1KiB_c1", "rr_1B_c16",
                                             "rr_1KiB_c16", "connrate_1KiB", "bulk_c1",
                                             "bulk_c8"}));
  for (const ScenarioSpec& s : AllScenarios()) {
    if (s.kind == ScenarioKind::kRequestResponse) {
      EXPECT_GT(s.open_loop_rate, 0) << s.name;
    }
  }
  RunDurations full = DurationsFor(false);
  EXPECT_GE(full.repetitions, 5);
  EXPECT_GE(full.warmup_rounds, 1);
}

TEST(StringListFlagTest, RepeatsAndCommaListsAccumulate) {
  std::vector<std::string> modes;
  weft::cli::FlagSet flags("t", "t");
  flags.StringList("mode", &modes, "modes");
  ASSERT_TRUE(flags.Parse({"--mode", "mesh,direct", "--mode=stunnel", "--mode", ","}).ok());
  EXPECT_EQ(modes, (std::vector<std::string>{"mesh", "direct", "stunnel"}));
}

}  // namespace
}  // namespace weft::bench
