// w2s/steer/control_vector.hpp — steering vectors as llama.cpp control-vector GGUF files.
//
// The format (what llama.cpp's cvector-generator writes and `--control-vector` reads):
//   general.architecture     = "controlvector"                (string)
//   controlvector.model_hint = the model's architecture, e.g. "llama" (string)
//   controlvector.layer_count = n_layers - 1                  (i32: the direction slots 1..n_layers-1)
//   direction.N              : F32 tensor [hidden], for each present layer N
// llama.cpp adds direction.N to the OUTPUT of 0-based block N, for N >= 1 (it has no slot for block 0 and
// rejects a direction.0 tensor). w2s uses the same convention for its layers, so a file written here steers
// llama.cpp exactly as w2s does, and vice versa. A vector for block 0 cannot be expressed: save refuses it
// with invalid_argument (erase layer 0 first). w2s adds two keys llama.cpp ignores:
//   w2s.format_version (u32, currently 1) and w2s.estimator (string: "mean", "pca", "probe").
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/gguf/reader.hpp"
#include "w2s/gguf/writer.hpp"
#include "w2s/steer/vector_set.hpp"

namespace w2s::steer {

inline constexpr std::uint32_t kControlVectorFormatVersion = 1;

/// Writes `vs` as a control-vector file. Throws invalid_argument when the set is empty or holds a vector
/// for block 0, io_error when the file cannot be written.
void save_control_vector(const VectorSet& vs, const std::string& path);

/// Reads a control-vector file. n_layers is max(controlvector.layer_count + 1, highest N + 1) unless
/// `expect_layers` > 0, in which case every N must be below it and the set has that many layers.
/// Throws format_error (not a control vector, a bad tensor name/type/shape, direction.0, inconsistent
/// widths) naming the file and the tensor.
VectorSet load_control_vector(const std::string& path, int expect_layers = 0);

// ---- implementation ------------------------------------------------------------------------------

inline void save_control_vector(const VectorSet& vs, const std::string& path) {
    const auto layers = vs.layers();
    if (layers.empty()) throw invalid_argument("save_control_vector " + path + ": the vector set is empty");
    if (layers.front() == 0)
        throw invalid_argument("save_control_vector " + path +
                               ": the set has a vector for block 0, which a llama.cpp control vector cannot express "
                               "(direction.N is added to the output of block N, N >= 1); erase layer 0 first");
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::from_string("controlvector"));
    w.set("controlvector.model_hint", gguf::Value::from_string(vs.model_hint.empty() ? "llama" : vs.model_hint));
    w.set("controlvector.layer_count", gguf::Value::from_i32(vs.n_layers() - 1));
    w.set("w2s.format_version", gguf::Value::from_u32(kControlVectorFormatVersion));
    if (!vs.estimator.empty()) w.set("w2s.estimator", gguf::Value::from_string(vs.estimator));
    if (!vs.source.empty()) w.set("w2s.source", gguf::Value::from_string(vs.source));
    for (int l : layers) w.add_tensor_f32("direction." + std::to_string(l), {static_cast<std::uint64_t>(vs.hidden())}, vs.at(l));
    w.write(path);
}

inline VectorSet load_control_vector(const std::string& path, int expect_layers) {
    gguf::File f(path);
    const std::string arch = f.get_string("general.architecture", "");
    if (arch != "controlvector")
        throw format_error(path + ": general.architecture is '" + arch + "', expected 'controlvector'");
    if (f.has("w2s.format_version") && f.get_int("w2s.format_version") > kControlVectorFormatVersion)
        throw format_error(path + ": w2s.format_version " + std::to_string(f.get_int("w2s.format_version")) +
                           " is newer than this library reads (" + std::to_string(kControlVectorFormatVersion) + ")");
    struct Dir {
        int layer;
        const gguf::TensorInfo* t;
    };
    std::vector<Dir> dirs;
    std::uint64_t hidden = 0;
    for (const auto& t : f.tensors()) {
        const std::string where = path + ": tensor '" + t.name + "'";
        constexpr std::string_view prefix = "direction.";
        if (t.name.rfind(prefix, 0) != 0) throw format_error(where + ": unexpected tensor, expected direction.N");
        const std::string num = t.name.substr(prefix.size());
        if (num.empty() || num.size() > 6 || !std::all_of(num.begin(), num.end(), [](char c) { return c >= '0' && c <= '9'; }))
            throw format_error(where + ": layer index '" + num + "' is not a non-negative integer");
        const int layer = std::stoi(num);
        if (layer == 0)
            throw format_error(where + ": direction.0 is not valid (llama.cpp directions start at block 1)");
        if (t.type != gguf::TensorType::F32)
            throw format_error(where + ": type " + std::string(gguf::tensor_type_name(t.type)) + ", expected F32");
        if (t.ne.size() != 1 || t.ne[0] == 0)
            throw format_error(where + ": shape " + t.shape_string() + ", expected a 1-d vector");
        if (hidden && t.ne[0] != hidden)
            throw format_error(where + ": length " + std::to_string(t.ne[0]) + ", expected " + std::to_string(hidden) +
                               " like the other directions");
        hidden = t.ne[0];
        dirs.push_back({layer, &t});
    }
    if (dirs.empty()) throw format_error(path + ": no direction.N tensors");
    int max_layer = 0;
    for (const auto& d : dirs) max_layer = std::max(max_layer, d.layer);
    int n_layers = std::max<int>(static_cast<int>(f.get_int("controlvector.layer_count", 0)) + 1, max_layer + 1);
    if (expect_layers > 0) {
        if (max_layer >= expect_layers)
            throw format_error(path + ": direction." + std::to_string(max_layer) + " is beyond the model's " +
                               std::to_string(expect_layers) + " blocks");
        n_layers = expect_layers;
    }
    VectorSet vs(n_layers, static_cast<int>(hidden));
    vs.model_hint = f.get_string("controlvector.model_hint", "");
    vs.estimator = f.get_string("w2s.estimator", "");
    vs.source = f.get_string("w2s.source", "");
    std::vector<float> buf(hidden);
    for (const auto& d : dirs) {
        std::memcpy(buf.data(), d.t->data, hidden * sizeof(float));
        vs.set(d.layer, buf);
    }
    return vs;
}

}  // namespace w2s::steer
