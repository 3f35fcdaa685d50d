// The verb table itself: every row well formed, and everything the CLI says
// about a verb (help, errors, ops) coming from its row.
#include "ctl/verb_table.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "ctl/help.h"

namespace bpfnet::ctl {
namespace {

std::vector<std::string> words_of(const VerbRow& row) {
  std::vector<std::string> words;
  std::istringstream in(row.name);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// Every flag a verb accepts: its own, then the output and common ones.
std::vector<FlagSpec> all_flags(const VerbRow& row) {
  std::vector<FlagSpec> flags = row.flags;
  if (row.standard_output_flags)
    flags.insert(flags.end(), kOutputFlags.begin(), kOutputFlags.end());
  flags.insert(flags.end(), kCommonFlags.begin(), kCommonFlags.end());
  return flags;
}

// "--driver".
std::string long_form(const FlagSpec& flag) { return "--" + std::string(flag.long_name()); }

// The row's line in the command list above it: "  ls          List networks\n".
std::string listed_line(const VerbRow& row) {
  std::string line = "  " + std::string(row.word());
  line.resize(14, ' ');
  return line + row.help.listed + "\n";
}

// Whether `help` has a line for the flag in its options: its head, then its
// description on the same line or the next.
bool lists_flag(const std::string& help, const FlagSpec& flag) {
  const std::string indent = flag.short_name().empty() ? "      " : "  ";
  const std::string head = "\n" + indent + std::string(flag.head);
  for (size_t at = help.find(head); at != std::string::npos; at = help.find(head, at + 1)) {
    const char after = help[at + head.size()];
    if (after == ' ' || after == '\n') return true;
  }
  return false;
}

std::string usage_error(const std::vector<std::string>& args) {
  try {
    parse_command(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(VerbTable, EveryRowHasAUniquePath) {
  std::set<std::string> paths;
  for (const VerbRow& row : verb_table()) {
    EXPECT_TRUE(paths.insert(row.name).second) << row.name;
    EXPECT_FALSE(row.name.empty());
    EXPECT_EQ(row.name.find("  "), std::string::npos) << row.name;
    const std::vector<std::string> words = words_of(row);
    EXPECT_LE(words.size(), 2u) << row.name;
    if (!row.alias.empty()) {
      // An alias is a path too: it must select this row and no other.
      EXPECT_TRUE(paths.insert(std::string(row.group()) + " " + row.alias).second) << row.alias;
      EXPECT_EQ(find_row(row.group(), row.alias), &row) << row.alias;
    }
    EXPECT_EQ(find_row(row.group(), row.word()), &row) << row.name;
  }
}

TEST(VerbTable, GroupsHoldVerbsAndVerbsCallTheDaemon) {
  for (const VerbRow& row : verb_table()) {
    if (!row.group().empty()) {
      const VerbRow* group = find_row("", row.group());
      ASSERT_NE(group, nullptr) << row.name;
      EXPECT_TRUE(group->is_group()) << row.name;
    }
    if (row.is_group()) {
      EXPECT_TRUE(row.group().empty()) << row.name << ": groups do not nest";
      EXPECT_TRUE(row.call.op.empty() && row.call.render == nullptr) << row.name;
      EXPECT_FALSE(verb_words(row.name).empty()) << row.name << " has no verbs";
    } else {
      EXPECT_FALSE(row.call.op.empty()) << row.name;
      EXPECT_NE(row.call.render, nullptr) << row.name;
    }
    EXPECT_FALSE(row.help.listed.empty()) << row.name;
    EXPECT_FALSE(row.help.summary.empty()) << row.name;
  }
}

TEST(VerbTable, EveryOpIsOneTheDaemonDocuments) {
  std::ifstream readme(BPFNET_USERSPACE_README);
  ASSERT_TRUE(readme) << BPFNET_USERSPACE_README;
  std::stringstream text;
  text << readme.rdbuf();
  for (const VerbRow& row : verb_table()) {
    if (row.is_group()) continue;
    EXPECT_NE(text.str().find("| `" + row.call.op + "` |"), std::string::npos)
        << row.name << " sends " << row.call.op
        << ", which no protocol table of userspace/README.md documents";
  }
}

TEST(VerbTable, FlagHeadsNameTheFlag) {
  const FlagSpec driver{"-d, --driver string", "Driver"};
  EXPECT_EQ(driver.long_name(), "driver");
  EXPECT_EQ(driver.short_name(), "d");
  EXPECT_TRUE(driver.takes_value());
  const FlagSpec internal{"--internal", "Internal"};
  EXPECT_EQ(internal.long_name(), "internal");
  EXPECT_EQ(internal.short_name(), "");
  EXPECT_FALSE(internal.takes_value());
  EXPECT_FALSE(kHelpFlag.takes_value());
  EXPECT_EQ(kHelpFlag.short_name(), "h");
}

TEST(VerbTable, EveryFlagIsUniqueAndListedInTheHelp) {
  for (const VerbRow& row : verb_table()) {
    if (row.is_group()) continue;
    const std::string help = verb_help(row);
    std::set<std::string_view> names;
    for (const FlagSpec& flag : all_flags(row)) {
      EXPECT_TRUE(names.insert(flag.long_name()).second) << row.name << " --" << flag.long_name();
      if (!flag.short_name().empty()) {
        EXPECT_TRUE(names.insert(flag.short_name()).second)
            << row.name << " -" << flag.short_name();
      }
      EXPECT_TRUE(lists_flag(help, flag)) << row.name << ": " << flag.head;
    }
  }
}

TEST(VerbTable, EveryFlagIsParsed) {
  for (const VerbRow& row : verb_table()) {
    if (row.is_group()) continue;
    for (const FlagSpec& flag : all_flags(row)) {
      std::vector<std::string> args = words_of(row);
      args.push_back(long_form(flag));
      if (flag.takes_value()) args.emplace_back("");
      const std::string error = usage_error(args);
      EXPECT_EQ(error.find("unknown flag"), std::string::npos) << row.name << ": " << error;
    }
  }
}

TEST(VerbTable, EveryVerbIsListedAndHasItsHelp) {
  for (const VerbRow& row : verb_table()) {
    const std::string listing = row.group().empty() ? global_help() : group_help(row.group());
    EXPECT_NE(listing.find(listed_line(row)), std::string::npos) << row.name;
    if (row.is_group()) {
      EXPECT_EQ(parse_command({row.name, "--help"}).help_text, group_help(row.name));
      continue;
    }
    std::vector<std::string> args = words_of(row);
    args.emplace_back("--help");
    const Command cmd = parse_command(args);
    EXPECT_EQ(cmd.verb(), "help");
    EXPECT_EQ(cmd.help_text, verb_help(row));
    EXPECT_EQ(cmd.help_text.rfind("Usage:  bpfnetctl " + row.name + " [OPTIONS]", 0), 0u);
    args.insert(args.begin(), "help");
    args.pop_back();
    EXPECT_EQ(parse_command(args).help_text, cmd.help_text) << row.name;
  }
}

TEST(VerbTable, EveryVerbParsesToItsRow) {
  for (const VerbRow& row : verb_table()) {
    if (row.is_group()) continue;
    // Arguments named as the row names them, and the flags it requires.
    std::vector<std::string> args = words_of(row);
    args.insert(args.end(), row.args.names.begin(), row.args.names.end());
    for (const FlagSpec& flag : row.flags) {
      if (flag.help.find("required") != std::string_view::npos) {
        args.push_back(long_form(flag));
        args.emplace_back(flag.long_name() == "port" ? "80" : "x");
      }
    }
    const Command cmd = parse_command(args);
    EXPECT_EQ(cmd.row, &row) << row.name;
    EXPECT_EQ(cmd.verb(), row.name);
    ASSERT_FALSE(cmd.requests.empty()) << row.name;
    for (const Request& req : cmd.requests) EXPECT_EQ(req.op, row.call.op) << row.name;
  }
}

TEST(VerbTable, MissingCommandNamesEveryVerbOfTheGroup) {
  for (const VerbRow& row : verb_table()) {
    if (!row.is_group()) continue;
    const std::string error = usage_error({row.name});
    for (std::string_view word : verb_words(row.name)) {
      EXPECT_NE(error.find(word), std::string::npos) << row.name << " " << word;
    }
  }
}

}  // namespace
}  // namespace bpfnet::ctl
