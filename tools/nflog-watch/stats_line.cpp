#include "stats_line.hpp"

#include "json_writer.hpp"

namespace nflog::watch {

void watch_totals::add(const nflog::stats& counters) noexcept
{
    lost += counters.lost;
    overruns += counters.overruns;
    malformed += counters.malformed;
    truncated += counters.truncated;
    discarded += counters.discarded;
    dropped_datagrams += counters.dropped_datagrams;
}

void write_stats(std::string& line, const watch_totals& totals)
{
    json_object_writer json(line);
    json.number("events", totals.events);
    json.number("lost", totals.lost);
    json.number("overruns", totals.overruns);
    json.number("malformed", totals.malformed);
    json.number("truncated", totals.truncated);
    json.number("discarded", totals.discarded);
    json.number("dropped_datagrams", totals.dropped_datagrams);
    json.close();
}

} // namespace nflog::watch
