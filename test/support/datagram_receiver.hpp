#ifndef NFLOG_TEST_SUPPORT_DATAGRAM_RECEIVER_HPP
#define NFLOG_TEST_SUPPORT_DATAGRAM_RECEIVER_HPP

#include "support/message_builder.hpp"

#include <nflog/batch.hpp>
#include <nflog/detail/receive_state.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace nflog::test {

/// Receives a hand-built datagram the way the socket does (its accounting
/// included), into a buffer of `capacity` bytes, for group 41.
class datagram_receiver {
public:
    explicit datagram_receiver(std::size_t capacity) : state_(capacity, {41}, {}) {}

    batch receive(const bytes& datagram)
    {
        auto lease = state_.acquire();
        const auto copied = std::min(datagram.size(), lease.bytes().size());
        std::memcpy(lease.bytes().data(), datagram.data(), copied);
        return state_.accept(std::move(lease), datagram.size());
    }

private:
    detail::receive_state state_;
};

} // namespace nflog::test

#endif
