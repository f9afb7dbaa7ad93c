// A program moving from libnetfilter_log may include its header first. It
// carries an older copy of the kernel's <linux/netfilter/nfnetlink_log.h>
// under the same include guard, which then hides the kernel's own.
#include <libnetfilter_log/libnetfilter_log.h>

#include <nflog/nflog.hpp>

#include <gtest/gtest.h>

// The older copy won: otherwise this test would show nothing.
static_assert(NFULA_MAX == NFULA_CT_INFO, "expected libnetfilter_log's copy of nfnetlink_log.h, which ends at CT_INFO");

TEST(kernel_header_order, libnetfilter_log_included_first_still_leaves_every_attribute)
{
    EXPECT_EQ(nflog::packet_view::max_attribute, 21);
    EXPECT_FALSE(nflog::packet_view().has(nflog::packet_view::max_attribute));
    EXPECT_TRUE(nflog::packet_view().l2hdr().empty());
}
