// w2s/model/model.hpp — what a user of the model layer includes: the Backend concept and hook types, and the
// reference backend for Llama-family GGUF models.
//
//   #include <w2s/model/model.hpp>
//   auto m = w2s::model::LlamaModel::load(path);
//   static_assert(w2s::model::Backend<w2s::model::LlamaModel>);
#pragma once

#include "w2s/model/backend.hpp"
#include "w2s/model/hooks.hpp"
#include "w2s/model/llama/arch.hpp"
#include "w2s/model/llama/llama_model.hpp"

namespace w2s::model {

using llama::LlamaModel;
using llama::LoadOptions;

}  // namespace w2s::model
