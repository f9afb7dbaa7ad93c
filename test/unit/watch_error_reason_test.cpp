#include "error_reason.hpp"

#include "support/counting_allocator.hpp"

#include <nflog/error.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace {

using namespace nflog;
using nflog::test::allocation_scope;
using nflog::watch::message_error_reason;
using nflog::watch::reason_buffer;

TEST(watch_error_reason, a_finding_of_the_library_is_its_message)
{
    reason_buffer buffer{};
    const auto error = make_error_code(errc::bad_attribute_size);
    EXPECT_EQ(message_error_reason(error, buffer), error.message());
}

TEST(watch_error_reason, a_kernel_errno_says_it_came_from_the_kernel)
{
    reason_buffer buffer{};
    const boost::system::error_code error(EPERM, boost::system::generic_category());
    EXPECT_EQ(message_error_reason(error, buffer), "kernel error reply: " + error.message());
}

// The live tool writes this reason when memory ran out for a datagram: a
// reason that allocated could fail in its turn and end the tool.
TEST(watch_error_reason, the_out_of_memory_reason_is_written_without_allocating)
{
    reason_buffer buffer{};
    const auto error = make_error_code(errc::receive_out_of_memory);
    const auto expected = error.message();
    allocation_scope allocations;
    const auto reason = message_error_reason(error, buffer);
    EXPECT_EQ(allocations.count(), 0u);
    EXPECT_EQ(reason, expected);
}

} // namespace
