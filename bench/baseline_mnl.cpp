#include "cases.hpp"

#include <nflog/inet.hpp>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <arpa/inet.h>
#include <endian.h>

#include <array>
#include <cstring>

namespace nflog::bench {
namespace {

constexpr std::uint16_t nflog_packet = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;

using attribute_table = std::array<const nlattr*, NFULA_MAX + 1>;

// The validation callback every libmnl user writes (libnetfilter_log's own
// nflog_nlmsg_parse has the same shape): unknown types are skipped, known ones
// must have their size, and the table keeps the last occurrence.
int store_attribute(const nlattr* attribute, void* data)
{
    if (mnl_attr_type_valid(attribute, NFULA_MAX) < 0)
        return MNL_CB_OK;
    const auto type = mnl_attr_get_type(attribute);
    int valid = 0;
    switch (type) {
    case NFULA_MARK:
    case NFULA_IFINDEX_INDEV:
    case NFULA_IFINDEX_OUTDEV:
    case NFULA_IFINDEX_PHYSINDEV:
    case NFULA_IFINDEX_PHYSOUTDEV:
    case NFULA_UID:
    case NFULA_GID:
    case NFULA_SEQ:
    case NFULA_SEQ_GLOBAL:
    case NFULA_CT_INFO:
        valid = mnl_attr_validate(attribute, MNL_TYPE_U32);
        break;
    case NFULA_HWTYPE:
    case NFULA_HWLEN:
        valid = mnl_attr_validate(attribute, MNL_TYPE_U16);
        break;
    case NFULA_PACKET_HDR:
        valid = mnl_attr_validate2(attribute, MNL_TYPE_UNSPEC, sizeof(nfulnl_msg_packet_hdr));
        break;
    case NFULA_TIMESTAMP:
        valid = mnl_attr_validate2(attribute, MNL_TYPE_UNSPEC, sizeof(nfulnl_msg_packet_timestamp));
        break;
    case NFULA_HWADDR:
        valid = mnl_attr_validate2(attribute, MNL_TYPE_UNSPEC, sizeof(nfulnl_msg_packet_hw));
        break;
    case NFULA_PREFIX:
        valid = mnl_attr_validate(attribute, MNL_TYPE_NUL_STRING);
        break;
    default:
        break;
    }
    if (valid < 0)
        return MNL_CB_ERROR;
    (*static_cast<attribute_table*>(data))[type] = attribute;
    return MNL_CB_OK;
}

std::uint32_t u32_or_zero(const attribute_table& table, int type) noexcept
{
    return table[type] ? ntohl(mnl_attr_get_u32(table[type])) : 0;
}

void decode_packet(tally& out, const nlmsghdr* message) noexcept
{
    attribute_table table{};
    if (mnl_attr_parse(message, sizeof(nfgenmsg), store_attribute, &table) < 0 || !table[NFULA_PACKET_HDR]) {
        ++out.failures;
        return;
    }
    const auto* generic = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(message));
    nfulnl_msg_packet_hdr header;
    std::memcpy(&header, mnl_attr_get_payload(table[NFULA_PACKET_HDR]), sizeof header);
    ++out.packets;

    std::uint64_t details = ntohs(header.hw_protocol) + header.hook + u32_or_zero(table, NFULA_MARK) +
                            u32_or_zero(table, NFULA_IFINDEX_INDEV) + u32_or_zero(table, NFULA_IFINDEX_OUTDEV) +
                            u32_or_zero(table, NFULA_UID) + u32_or_zero(table, NFULA_GID) +
                            u32_or_zero(table, NFULA_SEQ);
    if (table[NFULA_TIMESTAMP]) {
        nfulnl_msg_packet_timestamp stamp;
        std::memcpy(&stamp, mnl_attr_get_payload(table[NFULA_TIMESTAMP]), sizeof stamp);
        details += be64toh(stamp.sec) * 1'000'000 + be64toh(stamp.usec);
    }
    if (table[NFULA_HWADDR]) {
        nfulnl_msg_packet_hw hardware;
        std::memcpy(&hardware, mnl_attr_get_payload(table[NFULA_HWADDR]), sizeof hardware);
        details += ntohs(hardware.hw_addrlen);
    }
    out.details += details;
    if (table[NFULA_PREFIX])
        add_prefix(out, mnl_attr_get_str(table[NFULA_PREFIX]));

    std::span<const std::byte> payload;
    if (table[NFULA_PAYLOAD])
        payload = {static_cast<const std::byte*>(mnl_attr_get_payload(table[NFULA_PAYLOAD])),
                   mnl_attr_get_payload_len(table[NFULA_PAYLOAD])};
    const auto flow = inet::decode(payload, ntohs(header.hw_protocol), generic->nfgen_family);
    add_destination(out, flow);
    add_flow_rest(out, flow);
}

} // namespace

tally decode_with_mnl(const corpus& input) noexcept
{
    tally out;
    for (const auto datagram : input.datagrams()) {
        int remaining = static_cast<int>(datagram.size());
        const auto* message = reinterpret_cast<const nlmsghdr*>(datagram.data());
        for (; mnl_nlmsg_ok(message, remaining); message = mnl_nlmsg_next(message, &remaining)) {
            if (message->nlmsg_type == NLMSG_DONE)
                break;
            if (message->nlmsg_type != nflog_packet)
                continue;
            if (message->nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg))) {
                ++out.failures;
                continue;
            }
            decode_packet(out, message);
        }
    }
    return out;
}

} // namespace nflog::bench
