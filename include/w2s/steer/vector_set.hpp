// w2s/steer/vector_set.hpp — a set of steering vectors, one per layer.
//
// Layers are 0-based block indices: the vector of layer l is added to the OUTPUT of block l (llama.cpp's
// `direction.l`). A set has n_layers() rows of hidden() floats; a layer is present or absent (absent rows
// are zero and are not written to files).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/fingerprint.hpp"
#include "w2s/core/tensor.hpp"

namespace w2s::steer {

class VectorSet {
public:
    VectorSet() = default;
    /// An empty set (no layer present) for a model of n_layers blocks and `hidden` residual width.
    VectorSet(int n_layers, int hidden);

    [[nodiscard]] int n_layers() const noexcept { return n_layers_; }
    [[nodiscard]] int hidden() const noexcept { return hidden_; }
    [[nodiscard]] bool has(int layer) const { return layer >= 0 && layer < n_layers_ && present_[static_cast<std::size_t>(layer)]; }
    /// The present layers, ascending.
    [[nodiscard]] std::vector<int> layers() const;
    /// The vector of a present layer ([hidden]); throws invalid_argument for an absent or out-of-range layer.
    [[nodiscard]] std::span<const float> at(int layer) const;
    /// Sets layer's vector ([hidden]); throws invalid_argument / shape_error.
    void set(int layer, std::span<const float> v);
    void erase(int layer);
    /// [n_layers x hidden], zero rows for absent layers.
    [[nodiscard]] const MatrixRM& matrix() const noexcept { return data_; }

    std::string estimator;   ///< which estimator made it ("mean", "pca", "probe"; empty when unknown)
    std::string model_hint;  ///< the model's architecture, e.g. "llama" (controlvector.model_hint)
    std::string source;      ///< fingerprint of what made it (eval::run_behaviour: train items, estimator, layers; w2s.source), or empty

    /// The fingerprint of the vectors at `layers` (each present one's index and values): equal sets give equal
    /// fingerprints; another estimator or train split gives another.
    [[nodiscard]] std::string fingerprint(std::span<const int> layers) const {
        Fingerprint f;
        f.add(hidden_);
        for (int l : layers) f.add(l).add(at(l));
        return f.hex();
    }

private:
    void check_layer(int layer, const char* where) const;
    int n_layers_ = 0;
    int hidden_ = 0;
    MatrixRM data_;              // [n_layers x hidden]
    std::vector<char> present_;  // [n_layers]
};

inline VectorSet::VectorSet(int n_layers, int hidden) : n_layers_(n_layers), hidden_(hidden) {
    if (n_layers <= 0 || hidden <= 0)
        throw invalid_argument("VectorSet: n_layers and hidden must be positive, got " + std::to_string(n_layers) + " and " +
                               std::to_string(hidden));
    data_ = MatrixRM::Zero(n_layers, hidden);
    present_.assign(static_cast<std::size_t>(n_layers), 0);
}

inline void VectorSet::check_layer(int layer, const char* where) const {
    if (layer < 0 || layer >= n_layers_)
        throw invalid_argument(std::string("VectorSet::") + where + ": layer " + std::to_string(layer) + " out of range 0.." +
                               std::to_string(n_layers_ - 1));
}

inline std::vector<int> VectorSet::layers() const {
    std::vector<int> out;
    for (int l = 0; l < n_layers_; ++l)
        if (present_[static_cast<std::size_t>(l)]) out.push_back(l);
    return out;
}

inline std::span<const float> VectorSet::at(int layer) const {
    check_layer(layer, "at");
    if (!present_[static_cast<std::size_t>(layer)])
        throw invalid_argument("VectorSet::at: no vector for layer " + std::to_string(layer));
    return {data_.row(layer).data(), static_cast<std::size_t>(hidden_)};
}

inline void VectorSet::set(int layer, std::span<const float> v) {
    check_layer(layer, "set");
    if (v.size() != static_cast<std::size_t>(hidden_))
        throw shape_error("VectorSet::set: layer " + std::to_string(layer) + ": vector of " + std::to_string(v.size()) +
                          " values, expected " + std::to_string(hidden_));
    for (int j = 0; j < hidden_; ++j) data_(layer, j) = v[static_cast<std::size_t>(j)];
    present_[static_cast<std::size_t>(layer)] = 1;
}

inline void VectorSet::erase(int layer) {
    check_layer(layer, "erase");
    data_.row(layer).setZero();
    present_[static_cast<std::size_t>(layer)] = 0;
}

}  // namespace w2s::steer
