#ifndef NFLOG_DETAIL_RECORD_ITERATOR_HPP
#define NFLOG_DETAIL_RECORD_ITERATOR_HPP

#include <nflog/detail/bytes.hpp>
#include <nflog/error.hpp>
#include <nflog/result.hpp>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <span>

namespace nflog::detail {

/// Forward iterator over length-prefixed, 4-byte aligned records (netlink
/// messages, netlink attributes). `Framing` says how one kind is framed:
///
///   using view_type;                               // built from a record's bytes
///   static constexpr std::size_t header_size;
///   static constexpr errc short_record, bad_length;
///   static std::size_t length(const std::byte*);   // the record's own length field
///   static bool ends_walk(const std::byte*);       // a record that ends the walk unseen
///
/// Each element is a `result<view_type>`. A length that cannot be trusted
/// yields one error and ends the walk: no later byte can be trusted either,
/// so it never re-synchronises on guesses. An unpadded last record is valid.
template <class Framing>
class record_iterator {
public:
    using view_type = typename Framing::view_type;
    using iterator_category = std::forward_iterator_tag;
    using value_type = result<view_type>;
    using difference_type = std::ptrdiff_t;
    using pointer = const value_type*;
    using reference = const value_type&;

    record_iterator() = default;
    explicit record_iterator(std::span<const std::byte> records) noexcept : rest_(records) { step(); }

    reference operator*() const noexcept { return current_; }
    pointer operator->() const noexcept { return &current_; }

    record_iterator& operator++() noexcept
    {
        rest_ = stop_after_current_ ? std::span<const std::byte>{} : rest_.subspan(consumed_);
        step();
        return *this;
    }
    record_iterator operator++(int) noexcept
    {
        auto copy = *this;
        ++*this;
        return copy;
    }

    friend bool operator==(const record_iterator& a, const record_iterator& b) noexcept
    {
        return a.rest_.data() == b.rest_.data() && a.rest_.size() == b.rest_.size() && a.at_end_ == b.at_end_;
    }

private:
    void step() noexcept
    {
        consumed_ = 0;
        stop_after_current_ = false;
        if (rest_.empty()) {
            finish();
            return;
        }
        at_end_ = false;
        if (rest_.size() < Framing::header_size) {
            fail(Framing::short_record);
            return;
        }
        const std::size_t length = Framing::length(rest_.data());
        if (length < Framing::header_size || length > rest_.size()) {
            fail(Framing::bad_length);
            return;
        }
        if (Framing::ends_walk(rest_.data())) {
            finish();
            return;
        }
        current_ = view_type(rest_.first(length));
        consumed_ = std::min(align4(length), rest_.size());
    }

    void finish() noexcept
    {
        at_end_ = true;
        rest_ = {};
    }

    void fail(errc error) noexcept
    {
        current_ = make_error_code(error);
        stop_after_current_ = true;
    }

    std::span<const std::byte> rest_;
    // A value, not an error: every loop builds an end iterator, and making an
    // error_code costs a call into the category.
    value_type current_{view_type{}};
    std::size_t consumed_ = 0;
    bool stop_after_current_ = false;
    bool at_end_ = true;
};

} // namespace nflog::detail

#endif
