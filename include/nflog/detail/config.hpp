#ifndef NFLOG_DETAIL_CONFIG_HPP
#define NFLOG_DETAIL_CONFIG_HPP

namespace boost::asio {}

namespace nflog {
/// Short alias used throughout the library and its documentation.
namespace net = boost::asio;
} // namespace nflog

#endif
