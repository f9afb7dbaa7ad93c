// The README's code snippets are copies of regions of the compiled examples:
// this keeps them from drifting apart.
//
// In an example, a region runs from a line `// [snippet:NAME]` to a line
// `// [/snippet]` (both may be indented; the region's common indentation is
// removed). In the README, the snippet is the ```cpp block right after a line
// `<!-- snippet:NAME -->`.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

// The test data sits in test/data of the source tree.
const std::filesystem::path source_root = std::filesystem::path(NFLOG_TEST_DATA_DIR) / ".." / "..";

std::vector<std::string> read_lines(const std::filesystem::path& path)
{
    std::ifstream file(path);
    EXPECT_TRUE(file) << "cannot read " << path;
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);)
        lines.push_back(line);
    return lines;
}

std::string dedent(const std::vector<std::string>& lines)
{
    std::size_t indent = std::string::npos;
    for (const auto& line : lines)
        if (line.find_first_not_of(' ') != std::string::npos)
            indent = std::min(indent, line.find_first_not_of(' '));
    std::string out;
    for (const auto& line : lines)
        out += (line.size() > indent ? line.substr(indent) : std::string()) + "\n";
    return out;
}

struct region {
    std::string text;
    std::string origin;
};

std::map<std::string, region> example_regions()
{
    const std::regex opening(R"(\s*// \[snippet:([\w-]+)\])");
    const std::regex closing(R"(\s*// \[/snippet\])");
    std::map<std::string, region> regions;
    for (const auto& entry : std::filesystem::directory_iterator(source_root / "examples")) {
        if (entry.path().extension() != ".cpp" && entry.path().extension() != ".hpp")
            continue;
        const auto lines = read_lines(entry.path());
        for (std::size_t i = 0; i < lines.size(); ++i) {
            std::smatch name;
            if (!std::regex_match(lines[i], name, opening))
                continue;
            std::vector<std::string> body;
            std::size_t end = i + 1;
            while (end < lines.size() && !std::regex_match(lines[end], closing))
                body.push_back(lines[end++]);
            EXPECT_LT(end, lines.size()) << "unclosed snippet " << name[1] << " in " << entry.path();
            const auto inserted = regions.emplace(name[1], region{dedent(body), entry.path().filename().string()});
            EXPECT_TRUE(inserted.second) << "snippet " << name[1] << " defined twice";
            i = end;
        }
    }
    return regions;
}

std::map<std::string, std::string> readme_snippets()
{
    const std::regex marker(R"(<!-- snippet:([\w-]+) -->)");
    const auto lines = read_lines(source_root / "README.md");
    std::map<std::string, std::string> snippets;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::smatch name;
        if (!std::regex_match(lines[i], name, marker))
            continue;
        EXPECT_TRUE(i + 1 < lines.size() && lines[i + 1] == "```cpp") << "snippet " << name[1] << " has no ```cpp block";
        std::string text;
        std::size_t end = i + 2;
        while (end < lines.size() && lines[end] != "```")
            text += lines[end++] + "\n";
        EXPECT_LT(end, lines.size()) << "unclosed code block of snippet " << name[1];
        EXPECT_TRUE(snippets.emplace(name[1], text).second) << "snippet " << name[1] << " used twice in the README";
        i = end;
    }
    return snippets;
}

TEST(readme_snippets, every_readme_snippet_equals_its_example_region)
{
    const auto regions = example_regions();
    const auto snippets = readme_snippets();
    ASSERT_FALSE(snippets.empty()) << "no snippet markers found in README.md";
    for (const auto& [name, text] : snippets) {
        const auto found = regions.find(name);
        ASSERT_NE(found, regions.end()) << "README snippet " << name << " has no region in examples/";
        EXPECT_EQ(text, found->second.text) << "README snippet " << name << " differs from examples/"
                                            << found->second.origin;
    }
}

TEST(readme_snippets, every_example_region_is_shown_in_the_readme)
{
    const auto regions = example_regions();
    const auto snippets = readme_snippets();
    ASSERT_FALSE(regions.empty()) << "no snippet regions found in examples/";
    for (const auto& [name, found] : regions)
        EXPECT_TRUE(snippets.count(name)) << "region " << name << " of examples/" << found.origin
                                          << " is not in README.md";
}

TEST(readme_snippets, dedent_removes_only_the_common_indentation)
{
    EXPECT_EQ(dedent({"    a", "      b", "", "    c"}), "a\n  b\n\nc\n");
    EXPECT_EQ(dedent({"x", "  y"}), "x\n  y\n");
}

} // namespace
