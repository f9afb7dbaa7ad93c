#ifndef NFLOG_RESULT_HPP
#define NFLOG_RESULT_HPP

#include <boost/outcome/result.hpp>
#include <boost/outcome/try.hpp>
#include <boost/system/error_code.hpp>

namespace nflog {

/// A value or a `boost::system::error_code`; never throws on construction.
template <class T>
using result = boost::outcome_v2::result<T, boost::system::error_code>;

} // namespace nflog

#endif
