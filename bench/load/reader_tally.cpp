#include "reader_tally.hpp"

#include <sys/resource.h>

#include <cstdio>

namespace nflog::load {

cpu_time process_cpu() noexcept
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto ns = [](const timeval& t) {
        return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(t.tv_usec) * 1000u;
    };
    return {ns(usage.ru_utime) + ns(usage.ru_stime), ns(usage.ru_stime)};
}

void print_result(const std::string& reader, const reader_tally& tally, const cpu_time& cpu, const std::string& note)
{
    std::printf("%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%s\n", reader.c_str(),
                static_cast<unsigned long long>(tally.received), static_cast<unsigned long long>(tally.lost),
                static_cast<unsigned long long>(tally.overruns), static_cast<unsigned long long>(tally.datagrams),
                static_cast<unsigned long long>(tally.foreign), static_cast<unsigned long long>(cpu.total_ns),
                static_cast<unsigned long long>(cpu.system_ns),
                static_cast<unsigned long long>(tally.last_ns - tally.first_ns),
                static_cast<unsigned long long>(tally.latency.quantile(0.5)),
                static_cast<unsigned long long>(tally.latency.quantile(0.99)),
                static_cast<unsigned long long>(tally.latency.max()), note.c_str());
    std::fflush(stdout);
}

} // namespace nflog::load
