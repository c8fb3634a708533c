// w2s/core/durable.hpp — writing files and folders so that a crash never leaves one that reads as valid but is
// half written: write under a temporary name, flush to the disk (fsync), then rename into place (and fsync the
// folder that holds the name).
//
//   w2s::durable::fsync_dir(folder);                 // the names in a folder (after a rename or create)
//   w2s::durable::replace_dir(staged, target);       // staged folder becomes target in one step
//   w2s::durable::write_file(path, bytes, n);        // PATH.partial-PID, fsync, rename onto PATH, fsync folder
//
// replace_dir swaps a complete staged folder in for the target with one rename: renameat2(RENAME_EXCHANGE) on
// Linux when the target exists (a reader opens the old folder or the new one, never a mix), a plain rename when it
// does not; the old folder, now under the staged name, is then removed. Where the exchange is not available (other
// systems, file systems without it) it falls back to two renames (target aside, staged into place), which leaves a
// moment with no target but never a mixed one. Errors are w2s::io_error naming the path.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "w2s/core/error.hpp"

namespace w2s::durable {

/// Flushes the open file `fd` (named `path` in the message) to the disk. Some file systems (and folders on some
/// systems) refuse fsync with EINVAL or EROFS: nothing to flush there, not an error.
inline void fsync_fd(int fd, const std::string& path) {
    if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) throw io_error(path + ": fsync failed: " + std::strerror(errno));
}

namespace detail {
inline void fsync_fd_of(const std::string& path, int flags, const char* what) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) throw io_error(path + ": cannot open to flush it to the disk (" + what + "): " + std::strerror(errno));
    try {
        fsync_fd(fd, path);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
}
}  // namespace detail

/// Flushes a folder's entries (names created, renamed or removed in it) to the disk.
inline void fsync_dir(const std::string& path) { detail::fsync_fd_of(path.empty() ? std::string(".") : path, O_RDONLY | O_DIRECTORY, "folder"); }

/// Writes `n` bytes to `path` so that `path` holds either its old contents or all the new ones, never a part:
/// written to PATH.partial-PID, flushed to the disk, renamed onto PATH (atomic), and the folder flushed. A reader
/// that maps the old file keeps its own copy of it (the rename makes a new inode), so it never sees it shrink.
inline void write_file(const std::string& path, const void* data, std::size_t n) {
    const std::string tmp = path + ".partial-" + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw io_error(path + ": cannot open for writing (as " + tmp + "): " + std::strerror(errno));
    const auto* p = static_cast<const char*>(data);
    std::size_t done = 0;
    while (done < n) {
        const ::ssize_t w = ::write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            const int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw io_error(path + ": wrote " + std::to_string(done) + " of " + std::to_string(n) + " bytes: " + std::strerror(err));
        }
        done += static_cast<std::size_t>(w);
    }
    try {
        fsync_fd(fd, path);
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw io_error(path + ": cannot close after writing: " + std::strerror(err));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw io_error(path + ": cannot move " + tmp + " into place: " + std::strerror(err));
    }
    fsync_dir(std::filesystem::path(path).parent_path().string());
}
inline void write_file(const std::string& path, const std::string& text) { write_file(path, text.data(), text.size()); }

namespace detail {
/// replace_dir's fallback where the exchange is not available: `target` (an existing folder) is moved aside to
/// STAGED.old, `staged` is moved into place, the old folder is removed. If `staged` cannot be moved into place, the
/// old folder is put back, so that a failed replace leaves `target` as it was (the message says whether it is).
inline void replace_dir_by_renames(const std::string& staged, const std::string& target) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const std::string parent = fs::path(target).parent_path().string();
    const std::string aside = staged + ".old";
    fs::remove_all(aside, ec);
    fs::rename(target, aside, ec);
    if (ec) throw io_error(target + ": cannot move the old folder aside: " + ec.message());
    fs::rename(staged, target, ec);
    if (ec) {
        const std::string why = ec.message();
        std::error_code back;
        fs::rename(aside, target, back);
        throw io_error(target + ": cannot move " + staged + " into place: " + why +
                       (back ? "; the old folder could not be put back either and is at " + aside + ": " + back.message()
                             : "; the old folder is back in place"));
    }
    fsync_dir(parent);
    fs::remove_all(aside, ec);
    if (ec) throw io_error(aside + ": the old folder could not be removed: " + ec.message());
}
}  // namespace detail

/// Makes the complete folder `staged` the folder `target` (see the file comment); `target`'s old contents are
/// removed. Both must be on one file system (siblings, in practice).
inline void replace_dir(const std::string& staged, const std::string& target) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const std::string parent = fs::path(target).parent_path().string();
    const bool exists = fs::exists(target, ec);
    if (exists && !fs::is_directory(target, ec)) throw io_error(target + ": exists and is not a folder; not replacing it");
    if (!exists) {
        fs::rename(staged, target, ec);
        if (ec) throw io_error(target + ": cannot move " + staged + " into place: " + ec.message());
        fsync_dir(parent);
        return;
    }
#if defined(__linux__) && defined(RENAME_EXCHANGE)
    if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
        fsync_dir(parent);
        fs::remove_all(staged, ec);  // the old folder, now under the staged name
        if (ec) throw io_error(staged + ": the old folder could not be removed after the swap: " + ec.message());
        return;
    }
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        throw io_error(target + ": cannot swap " + staged + " into place: " + std::strerror(errno));
#endif
    detail::replace_dir_by_renames(staged, target);
}

}  // namespace w2s::durable
