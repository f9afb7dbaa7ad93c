#include <nflog/error.hpp>

#include "support/counting_allocator.hpp"

#include <gtest/gtest.h>

#include <array>

#include <cerrno>
#include <string>

namespace {

using namespace nflog;
using boost::system::error_code;

TEST(error, category_names_and_messages)
{
    EXPECT_STREQ(error_category().name(), "nflog");
    EXPECT_STREQ(condition_category().name(), "nflog.condition");
    EXPECT_EQ(make_error_code(errc::group_busy).message(), "NFLOG group already bound by another socket");
    EXPECT_EQ(make_error_code(errc::permission_denied).message(),
              "permission denied: nfnetlink_log needs CAP_NET_ADMIN, entering a network namespace CAP_SYS_ADMIN");
    EXPECT_EQ(make_error_code(errc::conntrack_unavailable).message(),
              "conntrack data unavailable (no nf_conntrack_netlink in the kernel)");
    EXPECT_EQ(error_code(999, error_category()).message(), "unknown nflog error");
    // Every code has a message of its own.
    for (int value = static_cast<int>(errc::short_message); value <= static_cast<int>(errc::receive_pending); ++value)
        EXPECT_NE(error_code(value, error_category()).message(), "unknown nflog error") << value;
}

// A message written into a caller's buffer never allocates: it is what a
// program can report when memory ran out.
TEST(error, the_buffer_messages_are_the_same_texts_and_never_allocate)
{
    std::array<char, 8> buffer{};
    for (int value = 0; value <= static_cast<int>(errc::receive_pending) + 1; ++value) {
        SCOPED_TRACE(value);
        const error_code code(value, error_category());
        const auto expected = code.message();
        nflog::test::allocation_scope allocations;
        const char* text = code.message(buffer.data(), buffer.size());
        EXPECT_EQ(allocations.count(), 0u);
        EXPECT_EQ(std::string(text), expected);
    }
    for (auto value : {condition::malformed, condition::overrun, condition::unavailable, condition::permission}) {
        const boost::system::error_condition code = make_error_condition(value);
        const auto expected = code.message();
        nflog::test::allocation_scope allocations;
        const char* text = code.message(buffer.data(), buffer.size());
        EXPECT_EQ(allocations.count(), 0u);
        EXPECT_EQ(std::string(text), expected);
    }
}

TEST(error, library_codes_belong_to_their_conditions)
{
    EXPECT_EQ(make_error_code(errc::bad_attribute_size), condition::malformed);
    EXPECT_EQ(make_error_code(errc::short_message), condition::malformed);
    EXPECT_EQ(make_error_code(errc::kernel_overrun), condition::overrun);
    EXPECT_EQ(make_error_code(errc::datagram_truncated), condition::overrun);
    EXPECT_EQ(make_error_code(errc::group_busy), condition::permission);
    EXPECT_EQ(make_error_code(errc::permission_denied), condition::permission);
    EXPECT_EQ(make_error_code(errc::nflog_unavailable), condition::unavailable);
    EXPECT_EQ(make_error_code(errc::namespace_not_found), condition::unavailable);

    EXPECT_NE(make_error_code(errc::group_busy), condition::unavailable);
    EXPECT_NE(make_error_code(errc::invalid_option), condition::malformed);
    EXPECT_NE(make_error_code(errc::conntrack_unavailable), condition::unavailable)
        << "NFLOG itself works: only the conntrack flag has to go";
}

// A receive that lost its datagram to a lack of memory is an overrun to a
// reader (the socket goes on, the gap shows at the next datagram), and still
// compares equal to ENOMEM. Other ENOMEMs (open, configure, a watcher's run
// that ended) lost no event and are no overrun.
TEST(error, a_datagram_lost_for_memory_is_an_overrun_and_still_enomem)
{
    const auto lost = make_error_code(errc::receive_out_of_memory);
    EXPECT_EQ(lost, condition::overrun);
    EXPECT_EQ(lost, boost::system::errc::not_enough_memory);
    EXPECT_EQ(lost.message(), "memory ran out while parsing a netlink datagram: its events were lost");
    EXPECT_NE(lost, condition::malformed);
    EXPECT_NE(lost, boost::system::errc::no_buffer_space);
    EXPECT_NE(lost, make_error_code(errc::kernel_overrun));
    EXPECT_NE(error_code(ENOMEM, boost::system::generic_category()), condition::overrun);
}

TEST(error, kernel_errnos_belong_to_the_same_conditions)
{
    const auto generic = [](int value) { return error_code(value, boost::system::generic_category()); };
    const auto system = [](int value) { return error_code(value, boost::system::system_category()); };
    EXPECT_EQ(system(ENOBUFS), condition::overrun);
    EXPECT_EQ(generic(EAFNOSUPPORT), condition::unavailable);
    EXPECT_EQ(generic(EPROTONOSUPPORT), condition::unavailable);
    EXPECT_EQ(generic(EPERM), condition::permission);
    EXPECT_EQ(system(EACCES), condition::permission);
    EXPECT_NE(generic(EINVAL), condition::malformed);
    EXPECT_NE(generic(ENOBUFS), condition::permission);
    EXPECT_EQ(make_error_condition(condition::overrun).message(), "NFLOG events were lost");
}

} // namespace
