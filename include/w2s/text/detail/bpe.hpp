// w2s/text/detail/bpe.hpp — the BPE merge loop shared by the byte-level and SentencePiece tokenizers,
// and a thread-safe cache of finished words. Internal: include <w2s/text/tokenizer.hpp> instead.
#pragma once

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace w2s::text::detail {

/// Result of merging the adjacent pair (left, right): its rank (lower merges first) and the new token.
struct MergeInfo {
    std::int32_t rank = INT32_MAX;
    std::int32_t result = -1;
};

/// Pair table: (left id, right id) -> MergeInfo, open addressing on a 64-bit key (no per-lookup hashing of
/// strings, no allocation).
class MergeTable {
public:
    void reserve(std::size_t n) {
        std::size_t cap = 16;
        while (cap < n * 2) cap <<= 1;
        keys_.assign(cap, kEmpty);
        vals_.assign(cap, MergeInfo{});
        mask_ = cap - 1;
        size_ = 0;
    }
    /// Inserts or overwrites (a later merge of the same pair replaces an earlier one, as HF does).
    void set(std::int32_t a, std::int32_t b, MergeInfo m) {
        if (keys_.empty() || (size_ + 1) * 2 > keys_.size()) grow();
        const std::uint64_t k = key(a, b);
        std::size_t i = hash(k) & mask_;
        while (keys_[i] != kEmpty && keys_[i] != k) i = (i + 1) & mask_;
        if (keys_[i] == kEmpty) ++size_;
        keys_[i] = k;
        vals_[i] = m;
    }
    [[nodiscard]] MergeInfo get(std::int32_t a, std::int32_t b) const noexcept {
        if (keys_.empty()) return {};
        const std::uint64_t k = key(a, b);
        std::size_t i = hash(k) & mask_;
        while (keys_[i] != kEmpty) {
            if (keys_[i] == k) return vals_[i];
            i = (i + 1) & mask_;
        }
        return {};
    }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
    static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
    static std::uint64_t key(std::int32_t a, std::int32_t b) noexcept {
        return (std::uint64_t{static_cast<std::uint32_t>(a)} << 32) | static_cast<std::uint32_t>(b);
    }
    static std::size_t hash(std::uint64_t k) noexcept {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdULL;
        k ^= k >> 33;
        return static_cast<std::size_t>(k);
    }
    void grow() {
        std::vector<std::uint64_t> ok = std::move(keys_);
        std::vector<MergeInfo> ov = std::move(vals_);
        reserve(std::max<std::size_t>(16, ok.size()));
        for (std::size_t i = 0; i < ok.size(); ++i)
            if (ok[i] != kEmpty) set(static_cast<std::int32_t>(ok[i] >> 32), static_cast<std::int32_t>(ok[i] & 0xffffffffu), ov[i]);
    }
    std::vector<std::uint64_t> keys_;
    std::vector<MergeInfo> vals_;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
};

/// Runs BPE on `ids` (the initial symbols, in order) in place: repeatedly merges the adjacent pair of lowest
/// rank, the leftmost first among equal ranks (the order of HF tokenizers' BPE::merge_word), until no
/// pair has a merge. On return `ids` holds the final symbols.
inline void bpe_merge(std::vector<std::int32_t>& ids, const MergeTable& merges) {
    const std::size_t n = ids.size();
    if (n < 2) return;
    struct Cand {
        std::int32_t rank;
        std::int32_t pos;
        std::int32_t result;
    };
    // Scratch reused per thread: prev/next links over the symbol positions [n], a heap of candidates.
    thread_local std::vector<std::int32_t> prev, next;
    thread_local std::vector<Cand> heap;
    prev.resize(n);
    next.resize(n);
    heap.clear();
    auto worse = [](const Cand& a, const Cand& b) { return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos; };
    for (std::size_t i = 0; i < n; ++i) {
        prev[i] = static_cast<std::int32_t>(i) - 1;
        next[i] = i + 1 < n ? static_cast<std::int32_t>(i + 1) : -1;
    }
    auto push = [&](std::int32_t pos) {
        const std::int32_t r = next[static_cast<std::size_t>(pos)];
        if (r < 0) return;
        MergeInfo m = merges.get(ids[static_cast<std::size_t>(pos)], ids[static_cast<std::size_t>(r)]);
        if (m.result < 0) return;
        heap.push_back({m.rank, pos, m.result});
        std::push_heap(heap.begin(), heap.end(), worse);
    };
    for (std::size_t i = 0; i + 1 < n; ++i) push(static_cast<std::int32_t>(i));
    constexpr std::int32_t kDead = -2;
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), worse);
        Cand c = heap.back();
        heap.pop_back();
        const auto p = static_cast<std::size_t>(c.pos);
        if (ids[p] == kDead) continue;
        const std::int32_t r = next[p];
        if (r < 0) continue;
        MergeInfo m = merges.get(ids[p], ids[static_cast<std::size_t>(r)]);
        if (m.result != c.result || m.rank != c.rank) continue;  // stale candidate
        ids[p] = c.result;
        ids[static_cast<std::size_t>(r)] = kDead;
        const std::int32_t rn = next[static_cast<std::size_t>(r)];
        next[p] = rn;
        if (rn >= 0) prev[static_cast<std::size_t>(rn)] = c.pos;
        if (prev[p] >= 0) push(prev[p]);
        push(c.pos);
    }
    std::size_t w = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (ids[i] != kDead) ids[w++] = ids[i];
    ids.resize(w);
}

/// Thread-safe cache: word bytes -> token ids. Sharded readers-writer locks; a full shard takes no more
/// entries (so memory stays bounded on endless unique input).
class WordCache {
public:
    explicit WordCache(std::size_t capacity = 1u << 18) : per_shard_(capacity / kShards + 1) {}

    /// Appends the cached ids of `word` to `out` and returns true, or returns false on a miss.
    bool lookup(std::string_view word, std::vector<std::int32_t>& out) const {
        const std::size_t h = std::hash<std::string_view>{}(word);
        const Shard& s = shards_[h % kShards];
        std::shared_lock lock(s.mu);
        auto it = s.map.find(word);
        if (it == s.map.end()) return false;
        out.insert(out.end(), it->second.begin(), it->second.end());
        return true;
    }
    void insert(std::string_view word, std::span<const std::int32_t> ids) {
        const std::size_t h = std::hash<std::string_view>{}(word);
        Shard& s = shards_[h % kShards];
        std::unique_lock lock(s.mu);
        if (s.map.size() >= per_shard_) return;
        s.map.try_emplace(std::string(word), ids.begin(), ids.end());
    }
    void clear() {
        for (auto& s : shards_) {
            std::unique_lock lock(s.mu);
            s.map.clear();
        }
    }

private:
    struct SvHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    struct Shard {
        mutable std::shared_mutex mu;
        std::unordered_map<std::string, std::vector<std::int32_t>, SvHash, std::equal_to<>> map;
    };
    static constexpr std::size_t kShards = 16;
    std::size_t per_shard_;
    std::array<Shard, kShards> shards_;
};

}  // namespace w2s::text::detail
