// w2s/serve/bundles.hpp — the steering bundles a server holds, loaded and unloaded while requests run.
//
//   w2s::serve::BundleRegistry<Model> reg(model, "bundles/");   // names = folder names under bundles/
//   reg.load_all();                                              // every folder holding a bundle.json
//   auto b = reg.find("sentiment");                              // shared_ptr<const Bundle<Model>>, or null
//   int layer = b->choose_layer(residuals);                      // the bundle's router (W2S)
//   reg.unload("sentiment");                                     // requests holding b keep it until they end
//
// A Bundle is an AdaptiveSteerer bundle (w2s/adaptive_steerer.hpp: vectors, router, prompt format) behind one
// interface whatever its router kind (route::for_router picks the type at load). The registry hands out
// shared_ptr snapshots: a request takes its bundles when it is accepted and holds them until it ends, so loading,
// replacing or unloading a bundle never changes or breaks a request in flight. Every member is thread-safe; a load
// reads the files outside the lock.
//
// Names: 1-64 characters of [A-Za-z0-9._-], not starting with '.', so that a name is always one folder under the
// registry's directory (no path from a request reaches anywhere else); never containing ".w2s-partial-" (a save's
// staging folder).
#pragma once

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "w2s/adaptive_steerer.hpp"
#include "w2s/core/error.hpp"
#include "w2s/route/residual_embedding.hpp"
#include "w2s/route/route.hpp"
#include "w2s/serve/errors.hpp"
#include "w2s/steer/vector_set.hpp"

namespace w2s::serve {

/// One loaded bundle: its steering vectors, candidate layers and router, read-only and shareable across threads.
template <class B>
class Bundle {
public:
    virtual ~Bundle() = default;
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] virtual std::string_view router_kind() const noexcept = 0;
    /// The vectors: vectors().has(l) for every layer a request may fix.
    [[nodiscard]] virtual const steer::VectorSet& vectors() const noexcept = 0;
    /// The router's candidate layers (what "auto" chooses among).
    [[nodiscard]] virtual const std::vector<int>& layers() const noexcept = 0;
    /// The best fixed layer on the bundle's train items.
    [[nodiscard]] virtual int fixed_layer() const noexcept = 0;
    /// The steerer's options: embedding block and pooling, prompt format, multipliers, provenance.
    [[nodiscard]] virtual const AdaptiveOptions& options() const noexcept = 0;
    /// The layer W2S picks for the prompt `ids` whose unsteered residuals are `r` (r must include
    /// options().embedding_block): AdaptiveSteerer::choose_layer.
    [[nodiscard]] virtual int choose_layer(std::span<const model::token_id> ids, const route::PromptResiduals& r) const = 0;

protected:
    Bundle(std::string name, std::string path) : name_(std::move(name)), path_(std::move(path)) {}

private:
    std::string name_, path_;
};

namespace detail {
template <class B, class R>
class BundleOf final : public Bundle<B> {
public:
    BundleOf(std::string name, std::string path, AdaptiveSteerer<B, R> s)
        : Bundle<B>(std::move(name), std::move(path)), s_(std::move(s)) {}
    std::string_view router_kind() const noexcept override { return R::kind; }
    const steer::VectorSet& vectors() const noexcept override { return s_.vectors(); }
    const std::vector<int>& layers() const noexcept override { return s_.layers(); }
    int fixed_layer() const noexcept override { return s_.fixed_layer(); }
    const AdaptiveOptions& options() const noexcept override { return s_.options(); }
    int choose_layer(std::span<const model::token_id> ids, const route::PromptResiduals& r) const override {
        return s_.choose_layer(route::PromptInput{ids, r});
    }

private:
    AdaptiveSteerer<B, R> s_;
};
}  // namespace detail

/// Whether `name` is a valid bundle name (see the file comment).
[[nodiscard]] inline bool valid_bundle_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 64 || name.front() == '.') return false;
    // AdaptiveSteerer::save's staging folders (NAME.w2s-partial-PID) are never bundles, even when complete
    if (name.find(".w2s-partial-") != std::string_view::npos) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    });
}

/// Loads the bundle in folder `path` under the name `name` (any router kind). Throws the loader's errors (io_error,
/// format_error, shape_error when it was made for another model) with the path in the message.
template <class B>
[[nodiscard]] std::shared_ptr<const Bundle<B>> load_bundle(const B& model, const std::string& name, const std::string& path) {
    return route::for_router(bundle_router_kind(path), [&]<class R>(std::type_identity<R>) -> std::shared_ptr<const Bundle<B>> {
        return std::make_shared<const detail::BundleOf<B, R>>(name, path, AdaptiveSteerer<B, R>::load(model, path));
    });
}

template <class B>
class BundleRegistry {
public:
    using BundlePtr = std::shared_ptr<const Bundle<B>>;

    /// `dir`: the folder whose subfolders are the loadable bundles ("" = none; add() still works). The model must
    /// outlive the registry and every bundle it handed out.
    BundleRegistry(const B& model, std::string dir) : model_(&model), dir_(std::move(dir)) {}

    [[nodiscard]] const std::string& dir() const noexcept { return dir_; }

    /// Loads every subfolder of dir() that holds a bundle.json, under its folder name; returns how many. A folder
    /// that fails to load throws (naming it) after the others are loaded.
    std::size_t load_all() {
        if (dir_.empty()) return 0;
        namespace fs = std::filesystem;
        std::error_code ec;
        if (!fs::is_directory(dir_, ec)) throw io_error(dir_ + ": not a folder of bundles");
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(dir_))
            if (e.is_directory() && fs::exists(e.path() / "bundle.json") && valid_bundle_name(e.path().filename().string()))
                names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        std::string failed;
        std::size_t n = 0;
        for (const auto& name : names) {
            try {
                load(name);
                ++n;
            } catch (const error& e) {
                failed += (failed.empty() ? "" : "; ") + std::string(e.what());
            }
        }
        if (!failed.empty()) throw format_error("loading bundles from " + dir_ + ": " + failed);
        return n;
    }

    /// Loads (or reloads: replaces) the bundle folder dir()/name. Throws request_error 400 for an invalid name, 404
    /// when there is no such bundle folder, and the loader's errors for a bundle that does not load.
    BundlePtr load(const std::string& name) {
        if (!valid_bundle_name(name))
            throw bad_field("name", "'" + name + "' is not a bundle name (1-64 characters of A-Z a-z 0-9 . _ -, not starting with '.')");
        if (dir_.empty()) throw request_error(404, "name", "bundle '" + name + "': the server has no bundle folder (--bundles)");
        const std::string path = dir_ + "/" + name;
        if (!std::filesystem::exists(path + "/bundle.json"))
            throw request_error(404, "name", "bundle '" + name + "': no folder " + name + " with a bundle.json under " + dir_);
        return add(name, path);
    }

    /// Loads the bundle folder `path` under `name` (any folder: for programs and tests, not for requests).
    BundlePtr add(const std::string& name, const std::string& path) {
        if (!valid_bundle_name(name)) throw invalid_argument("BundleRegistry::add: '" + name + "' is not a bundle name");
        BundlePtr b = load_bundle(*model_, name, path);  // outside the lock: requests go on meanwhile
        const std::lock_guard lock(m_);
        by_name_[name] = b;
        return b;
    }

    /// Removes `name`; requests that hold it keep it until they end. Returns false when it was not loaded.
    bool unload(const std::string& name) {
        const std::lock_guard lock(m_);
        return by_name_.erase(name) > 0;
    }

    /// The bundle called `name`, or null.
    [[nodiscard]] BundlePtr find(std::string_view name) const {
        const std::lock_guard lock(m_);
        const auto it = by_name_.find(std::string(name));
        return it == by_name_.end() ? nullptr : it->second;
    }

    /// Every loaded bundle, by name.
    [[nodiscard]] std::vector<BundlePtr> list() const {
        const std::lock_guard lock(m_);
        std::vector<BundlePtr> out;
        for (const auto& [n, b] : by_name_) out.push_back(b);
        return out;
    }

private:
    const B* model_;
    std::string dir_;
    mutable std::mutex m_;
    std::map<std::string, BundlePtr> by_name_;
};

}  // namespace w2s::serve
