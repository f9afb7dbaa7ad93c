#ifndef NFLOG_NFLOG_HPP
#define NFLOG_NFLOG_HPP

// Everything nflog-asio offers, in one include.
#include <nflog/error.hpp>
#include <nflog/inet.hpp>
#include <nflog/netlink/attribute.hpp>
#include <nflog/netlink/message.hpp>
#include <nflog/packet.hpp>
#include <nflog/result.hpp>

#endif
