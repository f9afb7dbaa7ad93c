#ifndef NFLOG_NFLOG_HPP
#define NFLOG_NFLOG_HPP

// Everything nflog-asio offers, in one include.
#include <nflog/action.hpp>
#include <nflog/batch.hpp>
#include <nflog/error.hpp>
#include <nflog/event.hpp>
#include <nflog/event_batch.hpp>
#include <nflog/event_channel.hpp>
#include <nflog/inet.hpp>
#include <nflog/inet_address.hpp>
#include <nflog/netlink/attribute.hpp>
#include <nflog/netlink/message.hpp>
#include <nflog/netlink/protocol.hpp>
#include <nflog/netlink/socket_options.hpp>
#include <nflog/options.hpp>
#include <nflog/packet.hpp>
#include <nflog/result.hpp>
#include <nflog/socket.hpp>
#include <nflog/source_id.hpp>
#include <nflog/stats.hpp>
#include <nflog/version.hpp>
#include <nflog/watcher.hpp>

#endif
