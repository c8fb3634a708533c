// w2s/w2s.hpp — the umbrella header: everything public in w2s.
#pragma once

#include "w2s/core/error.hpp"
#include "w2s/core/parallel.hpp"
#include "w2s/core/progress.hpp"
#include "w2s/core/tensor.hpp"
#include "w2s/gguf/reader.hpp"
