#ifndef NFLOG_VERSION_HPP
#define NFLOG_VERSION_HPP

// The single place the version is written: CMake reads it from here.
#define NFLOG_VERSION_MAJOR 0
#define NFLOG_VERSION_MINOR 1
#define NFLOG_VERSION_PATCH 0

/// One number to compare in `#if`: major * 10000 + minor * 100 + patch.
#define NFLOG_VERSION (NFLOG_VERSION_MAJOR * 10000 + NFLOG_VERSION_MINOR * 100 + NFLOG_VERSION_PATCH)

#endif
