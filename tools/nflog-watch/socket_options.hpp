#ifndef NFLOG_WATCH_SOCKET_OPTIONS_HPP
#define NFLOG_WATCH_SOCKET_OPTIONS_HPP

#include "options.hpp"

#include <nflog/options.hpp>

#include <string>

namespace nflog::watch {

/// The library options for the socket of one watched namespace (`netns`
/// empty: this one): the command line's groups and the values it set; every
/// other field keeps nflog::options' default.
nflog::options socket_options(const options& opts, const std::string& netns);

} // namespace nflog::watch

#endif
