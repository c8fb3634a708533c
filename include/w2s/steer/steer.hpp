// w2s/steer/steer.hpp — steering vectors and the steerability measurement (everything in w2s/steer/).
//
//   dataset.hpp        A/B items, loaders (CAA JSON, MWE JSONL), split, prompt variants
//   tokenized.hpp      an item as token ids for a backend (prompt, responses, letter index)
//   load.hpp           a data file to token ids in one call (DataSpec, load_tokenized)
//   estimators.hpp     the Estimator concept; MeanDifference (CAA), PCA, LogisticProbe
//   vector_set.hpp     per-layer vectors [n_layers x hidden]
//   activations.hpp    contrastive activations, extract_vectors<Estimator>
//   apply.hpp          SteeringHook: add λ·v at a block's output for a position policy
//   propensity.hpp     propensity from logits, slope, steerability, dataset figures
//   measure.hpp        the direct measurement and the fixed-layer sweep
//   report.hpp         JSON / CSV / SVG reports
//   control_vector.hpp llama.cpp control-vector files
#pragma once

#include "w2s/steer/activations.hpp"
#include "w2s/steer/apply.hpp"
#include "w2s/steer/control_vector.hpp"
#include "w2s/steer/dataset.hpp"
#include "w2s/steer/estimators.hpp"
#include "w2s/steer/measure.hpp"
#include "w2s/steer/propensity.hpp"
#include "w2s/steer/reply.hpp"
#include "w2s/steer/report.hpp"
#include "w2s/steer/tokenized.hpp"
#include "w2s/steer/load.hpp"
#include "w2s/steer/vector_set.hpp"
