#ifndef NFLOG_BENCH_LOAD_ARGS_HPP
#define NFLOG_BENCH_LOAD_ARGS_HPP

#include <cstdint>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nflog::load {

/// `--name value` pairs, nothing else: the harness is driven by a script,
/// not by people, so a typo must fail loudly instead of being guessed at.
class args {
public:
    args(int argc, char** argv)
    {
        for (int i = 1; i < argc; i += 2) {
            const std::string_view name = argv[i];
            if (!name.starts_with("--") || i + 1 >= argc)
                throw std::invalid_argument("expected --name value, got " + std::string(name));
            values_[std::string(name.substr(2))] = argv[i + 1];
        }
    }

    std::string text(const std::string& name, std::string fallback) const
    {
        const auto found = take(name);
        return found ? *found : std::move(fallback);
    }

    std::uint64_t number(const std::string& name, std::uint64_t fallback) const
    {
        const auto found = take(name);
        if (!found)
            return fallback;
        char* end = nullptr;
        const auto value = std::strtoull(found->c_str(), &end, 10);
        if (end == found->c_str() || *end != '\0')
            throw std::invalid_argument("--" + name + " needs a number, got " + *found);
        return value;
    }

    bool has(const std::string& name) const { return values_.contains(name); }

    /// Fails on any option nobody asked for.
    void reject_unused() const
    {
        for (const auto& [name, value] : values_)
            if (!used_.contains(name))
                throw std::invalid_argument("unknown option --" + name);
    }

private:
    const std::string* take(const std::string& name) const
    {
        const auto found = values_.find(name);
        if (found == values_.end())
            return nullptr;
        used_[name] = true;
        return &found->second;
    }

    std::map<std::string, std::string> values_;
    mutable std::map<std::string, bool> used_;
};

} // namespace nflog::load

#endif
