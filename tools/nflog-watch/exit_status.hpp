#ifndef NFLOG_WATCH_EXIT_STATUS_HPP
#define NFLOG_WATCH_EXIT_STATUS_HPP

namespace nflog::watch {

/// Exit statuses of nflog-watch; `help_text` lists them for users. Each
/// failure a script may want to branch on has its own number.
enum exit_status : int {
    exit_ok = 0,                    ///< read to the end, or watched until told to stop
    exit_cannot_open = 1,           ///< a file cannot be opened: the capture to read, or an output file
    exit_usage = 2,                 ///< the command line is wrong
    exit_unsupported_link_type = 3, ///< the capture holds neither NFLOG nor NETLINK records
    exit_damaged_capture = 4,       ///< a record could not be read; the lines before it were printed
    exit_output_failed = 5,         ///< the events (or the pcap) could not be written
    exit_out_of_memory = 6,         ///< memory ran out
    exit_permission = 7,            ///< no CAP_NET_ADMIN (or CAP_SYS_ADMIN to enter a namespace)
    exit_group_busy = 8,            ///< another socket owns a group
    exit_namespace_not_found = 9,   ///< a --netns names no namespace, or a file that is none
    exit_nflog_unavailable = 10,    ///< no netlink or no nfnetlink_log here
    exit_kernel_error = 11,         ///< the kernel or the system refused otherwise, or receiving failed
};

} // namespace nflog::watch

#endif
