#include "phased_run.hpp"

#include <utility>

namespace nflog::load {

phased_run::phased_run(const args& options, std::string label)
    : control_(options.number("limit-seconds", 60) * 1'000'000'000u, options.number("idle-ms", 1000) * 1'000'000u),
      label_(options.text("label", std::move(label)))
{
}

void phased_run::start()
{
    control_.listen();
    cpu_start_ = process_cpu();
}

bool phased_run::check(const note_function& note)
{
    const auto accounted = before_.received + before_.lost + tally.received + tally.lost;
    const auto verdict = control_.check(accounted, tally.last_ns);
    if (verdict == run_control::verdict::running)
        return true;
    if (verdict == run_control::verdict::stop && tally.received == 0 && tally.overruns == 0)
        return false;
    const auto cpu = process_cpu();
    std::string text = control_.reason();
    if (note)
        text += " " + note(tally, before_);
    print_result(label_, tally, cpu - cpu_start_, text);
    before_.received += tally.received;
    before_.lost += tally.lost;
    before_.overruns += tally.overruns;
    tally = reader_tally{};
    cpu_start_ = cpu;
    return verdict != run_control::verdict::stop;
}

} // namespace nflog::load
