// Unit tests of the reference backend on tiny random-weight models (tests/support/tiny_model.hpp):
// the identities the sweep and steering rely on (cached prefill == one pass, tails == prefill of
// prefix+tail, parent chains, resume from a stored residual, hooks, forks, threads) and loading errors.
#define BOOST_TEST_MODULE test_model_tiny
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <limits>
#include <thread>
#include <tuple>

#include "tiny_model.hpp"
#include "w2s/gguf/reader.hpp"
#include "w2s/gguf/writer.hpp"
#include "w2s/model/model.hpp"
#include "w2s/model/prefill_tails.hpp"
#include "w2s/model/sampling.hpp"
#include "w2s_test_support.hpp"

using namespace w2s;
using namespace w2s::model;

namespace {

std::string tmp_dir() {
    static const std::string d = w2s::test::temp_dir("test_model");
    return d;
}

using Activations = w2s::model::llama::LoadOptions::Activations;

const LlamaModel& tiny(const std::string& arch = "llama", bool tied = true, int swa_pattern = 2) {
    static std::map<std::string, LlamaModel> cache;
    const std::string key = arch + (tied ? "t" : "u") + std::to_string(swa_pattern);
    auto it = cache.find(key);
    if (it == cache.end()) {
        test::TinyModelOptions o;
        o.arch = arch;
        o.tied_output = tied;
        o.swa_pattern = swa_pattern;
        o.seed = 7;
        it = cache.emplace(key, LlamaModel::load(test::make_tiny_model(tmp_dir() + "/" + key, o))).first;
    }
    return it->second;
}

/// The same tiny model loaded with int8 activations for generation (LoadOptions::Activations::q8).
const LlamaModel& tiny_q8(const std::string& arch = "llama") {
    static std::map<std::string, LlamaModel> cache;
    auto it = cache.find(arch);
    if (it == cache.end()) {
        w2s::model::llama::LoadOptions lo;
        lo.activations = Activations::q8;
        it = cache.emplace(arch, LlamaModel::load(tiny(arch).file().path(), lo)).first;
    }
    return it->second;
}

float max_abs_diff(const MatrixRM& a, const MatrixRM& b) {
    BOOST_REQUIRE_EQUAL(a.rows(), b.rows());
    BOOST_REQUIRE_EQUAL(a.cols(), b.cols());
    return a.rows() ? (a - b).cwiseAbs().maxCoeff() : 0.f;
}

std::vector<token_id> toks(std::initializer_list<int> x) { return {x.begin(), x.end()}; }

using Capture = w2s::model::ResidualCapture;  // residuals per (layer, seq)

MatrixRM bottom_rows(const MatrixRM& m, Eigen::Index n) { return m.bottomRows(n); }

const std::vector<std::string> kArchs{"llama", "qwen2", "gemma3"};

}  // namespace

BOOST_AUTO_TEST_CASE(loads_hyperparameters_and_satisfies_the_concept) {
    static_assert(Backend<LlamaModel>);
    const auto& m = tiny();
    BOOST_TEST(m.n_layers() == 3);
    BOOST_TEST(m.hidden_size() == 64);
    BOOST_TEST(m.vocab_size() == 262);
    BOOST_TEST(m.hparams().n_head == 4);
    BOOST_TEST(m.hparams().n_head_kv == 2);
    BOOST_TEST(m.has_chat_template());
    const auto& g = tiny("gemma3");
    BOOST_TEST(g.hparams().sliding_window == 4);
    BOOST_TEST((g.hparams().swa == std::vector<std::uint8_t>{1, 0, 1}));
    BOOST_TEST(g.hparams().embed_scale == 8.0f, boost::test_tools::tolerance(1e-6f));
}

// The tiled attention kernel (the default) against the reference kernel, through the whole model: a prompt of 150
// tokens (several tiles and key blocks; past the tiny models' sliding window), then tails continuing it.
BOOST_AUTO_TEST_CASE(tiled_attention_gives_the_reference_kernels_logits) {
    for (const auto& arch : kArchs) {
        BOOST_TEST_CONTEXT("arch " << arch) {
            const auto& m = tiny(arch);
            w2s::model::llama::LoadOptions lo;
            lo.attention = w2s::model::llama::LoadOptions::Attention::reference;
            const auto ref = LlamaModel::load(m.file().path(), lo);
            std::vector<token_id> prompt;
            for (int i = 0; i < 150; ++i) prompt.push_back(3 + (i * 37) % 250);
            MatrixRM a, b;
            auto sa = m.new_session(), sb = ref.new_session();
            m.prefill(sa, prompt, {}, &a);
            ref.prefill(sb, prompt, {}, &b);
            BOOST_TEST(max_abs_diff(a, b) <= 1e-4f * std::max(1.f, b.cwiseAbs().maxCoeff()));
            const auto more = toks({5, 6, 7, 8});
            m.prefill(sa, more, {}, &a);
            ref.prefill(sb, more, {}, &b);
            BOOST_TEST(max_abs_diff(a, b) <= 1e-4f * std::max(1.f, b.cwiseAbs().maxCoeff()));
        }
    }
}

BOOST_AUTO_TEST_CASE(incremental_prefill_equals_one_pass) {
    for (const auto& arch : kArchs) {
        BOOST_TEST_CONTEXT("arch " << arch) {
            const auto& m = tiny(arch);
            const auto all = toks({1, 40, 41, 42, 100, 7, 8, 9, 200, 201, 202, 3});
            auto s1 = m.new_session();
            MatrixRM full;
            Capture c1;
            m.prefill(s1, all, c1.hook(), &full);
            BOOST_TEST(s1.size() == all.size());
            BOOST_TEST(full.rows() == static_cast<Eigen::Index>(all.size()));
            BOOST_TEST(full.cols() == m.vocab_size());

            auto s2 = m.new_session();
            MatrixRM a, b;
            m.prefill(s2, std::span(all).first(5), {}, &a);
            Capture c2;
            m.prefill(s2, std::span(all).subspan(5), c2.hook(), &b);
            BOOST_TEST(max_abs_diff(full.topRows(5), a) <= 1e-5f);
            BOOST_TEST(max_abs_diff(full.bottomRows(7), b) <= 1e-5f);
            for (int l = 0; l < m.n_layers(); ++l)
                BOOST_TEST(max_abs_diff(bottom_rows(c1.at[{l, 0}], 7), c2.at[{l, 0}]) <= 1e-5f);
        }
    }
}

BOOST_AUTO_TEST_CASE(last_logits_prefill_equals_the_last_row_of_a_full_prefill) {
    for (const auto& arch : kArchs) {
        BOOST_TEST_CONTEXT("arch " << arch) {
            const auto& m = tiny(arch);
            const auto all = toks({1, 40, 41, 42, 100, 7, 8, 9, 200});
            std::vector<float> v(static_cast<std::size_t>(m.hidden_size()), 0.25f);
            const Hook steer = [&](const BlockOutput& o) {  // a steering add at the last block must be seen
                if (o.layer == m.n_layers() - 1)
                    for (std::size_t r = 0; r < o.residual.rows; ++r)
                        for (std::size_t c = 0; c < o.residual.cols; ++c) o.residual.row(r)[c] += v[c];
            };
            auto s1 = m.new_session();
            auto s2 = m.new_session();
            MatrixRM full, last;
            m.prefill(s1, all, steer, &full);
            m.prefill_last_logits(s2, all, steer, &last);
            BOOST_TEST(last.rows() == 1);
            BOOST_TEST(max_abs_diff(full.bottomRows(1), last) <= 1e-5f);
            BOOST_TEST(s2.size() == all.size());
        }
    }
}

BOOST_AUTO_TEST_CASE(the_output_head_gives_the_same_logits_asked_for_alone_or_together) {
    // Selected logits and full logits in one call must each equal the call that asks for it alone (the head
    // normalises once, into its own buffer), and the final residual it reads must stay as the hooks saw it.
    for (const auto& arch : kArchs) {
        BOOST_TEST_CONTEXT("arch " << arch) {
            const auto& m = tiny(arch);
            const auto all = toks({1, 40, 41, 42, 100, 7});
            Capture cap;
            auto s = m.new_session();
            MatrixRM full;
            m.prefill(s, all, cap.hook(), &full);
            const MatrixRM x = cap.at.at({m.n_layers() - 1, 0});  // [tokens x hidden]
            MatrixRM x_copy = x;
            const ConstMatrixView xv{x_copy.data(), static_cast<std::size_t>(x.rows()), static_cast<std::size_t>(x.cols())};
            const std::vector<LogitQuery> q{{0, 5}, {3, 17}, {5, 5}, {5, 250}};
            std::vector<float> alone(q.size()), together(q.size());
            MatrixRM head_full, head_both;
            m.output_head(xv, &head_full);
            m.output_head(xv, nullptr, q, alone);
            m.output_head(xv, &head_both, q, together);
            BOOST_TEST(max_abs_diff(head_full, full) <= 1e-6f);
            BOOST_TEST(max_abs_diff(head_both, full) <= 1e-6f);
            for (std::size_t i = 0; i < q.size(); ++i) {
                BOOST_TEST(std::abs(together[i] - alone[i]) <= 1e-6f);
                BOOST_TEST(std::abs(alone[i] - full(static_cast<Eigen::Index>(q[i].row), q[i].token)) <= 1e-4f);
            }
            BOOST_TEST(max_abs_diff(x_copy, x) == 0.f);
            const std::vector<LogitQuery> bad{{6, 0}};
            std::vector<float> one(1);
            BOOST_CHECK_THROW(m.output_head(xv, nullptr, bad, one), w2s::invalid_argument);
        }
    }
}

BOOST_AUTO_TEST_CASE(tails_equal_prefill_of_prefix_plus_tail) {
    for (const auto& arch : kArchs) {
        for (bool tied : {true, false}) {
            BOOST_TEST_CONTEXT("arch " << arch << " tied " << tied) {
                const auto& m = tiny(arch, tied);
                const auto prefix = toks({1, 10, 11, 12, 13, 14});
                auto ps = m.new_session();
                m.prefill(ps, prefix);
                const std::vector<std::vector<token_id>> tail_toks{{20, 21, 22}, {30}, {40, 41, 42, 43, 44, 45}};
                std::vector<Tail> tails;
                for (const auto& t : tail_toks) tails.push_back(Tail{t, {}, -1});
                MatrixRM lg;
                Capture c;
                m.forward_tails(ps, tails, 0, c.hook(), &lg);
                BOOST_TEST(lg.rows() == 10);
                BOOST_TEST(ps.size() == prefix.size());  // prefix untouched
                Eigen::Index row = 0;
                for (std::size_t i = 0; i < tail_toks.size(); ++i) {
                    auto s = m.new_session();
                    auto seq = prefix;
                    seq.insert(seq.end(), tail_toks[i].begin(), tail_toks[i].end());
                    MatrixRM ref;
                    Capture rc;
                    m.prefill(s, seq, rc.hook(), &ref);
                    const auto n = static_cast<Eigen::Index>(tail_toks[i].size());
                    BOOST_TEST(max_abs_diff(lg.middleRows(row, n), ref.bottomRows(n)) <= 1e-5f);
                    for (int l = 0; l < m.n_layers(); ++l)
                        BOOST_TEST(max_abs_diff(c.at[{l, i}], bottom_rows(rc.at[{l, 0}], n)) <= 1e-5f);
                    row += n;
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(parent_chains_see_their_ancestors) {
    for (const auto& arch : kArchs) {
        BOOST_TEST_CONTEXT("arch " << arch) {
            const auto& m = tiny(arch);
            const auto prefix = toks({1, 50, 51, 52});
            auto ps = m.new_session();
            m.prefill(ps, prefix);
            // tree: 0 <- 1 <- 2, 0 <- 3, 4 alone
            const std::vector<std::vector<token_id>> tt{{60, 61}, {70, 71, 72}, {80}, {90, 91}, {100, 101, 102}};
            const std::vector<int> parent{-1, 0, 1, 0, -1};
            std::vector<Tail> tails;
            for (std::size_t i = 0; i < tt.size(); ++i) tails.push_back(Tail{tt[i], {}, parent[i]});
            MatrixRM lg;
            Capture c;
            std::vector<std::size_t> pos0(tt.size());
            m.forward_tails(ps, tails, 0,
                            [&](const BlockOutput& o) {
                                pos0[o.seq] = o.pos0;
                                c.hook()(o);
                            },
                            &lg);
            BOOST_TEST((pos0 == std::vector<std::size_t>{4, 6, 9, 6, 4}));
            Eigen::Index row = 0;
            for (std::size_t i = 0; i < tt.size(); ++i) {
                std::vector<int> chain;
                for (int p = static_cast<int>(i); p >= 0; p = parent[static_cast<std::size_t>(p)]) chain.insert(chain.begin(), p);
                auto seq = prefix;
                for (int p : chain) seq.insert(seq.end(), tt[static_cast<std::size_t>(p)].begin(), tt[static_cast<std::size_t>(p)].end());
                auto s = m.new_session();
                MatrixRM ref;
                Capture rc;
                m.prefill(s, seq, rc.hook(), &ref);
                const auto n = static_cast<Eigen::Index>(tt[i].size());
                BOOST_TEST(max_abs_diff(lg.middleRows(row, n), ref.bottomRows(n)) <= 1e-5f, "tail " << i);
                BOOST_TEST(max_abs_diff(c.at[{2, i}], bottom_rows(rc.at[{2, 0}], n)) <= 1e-5f);
                row += n;
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(resume_from_a_stored_residual_reproduces_the_full_pass) {
    for (const auto& arch : kArchs) {
        BOOST_TEST_CONTEXT("arch " << arch) {
            const auto& m = tiny(arch);
            auto ps = m.new_session();
            m.prefill(ps, toks({1, 5, 6, 7, 8}));
            const std::vector<std::vector<token_id>> tt{{9, 10, 11}, {12, 13}};
            std::vector<Tail> tails{Tail{tt[0], {}, -1}, Tail{tt[1], {}, 0}};
            MatrixRM full;
            Capture c;
            m.forward_tails(ps, tails, 0, c.hook(), &full);
            for (int fb = 1; fb <= m.n_layers(); ++fb) {
                BOOST_TEST_CONTEXT("first_block " << fb) {
                    const MatrixRM& in0 = c.at[{fb - 1, 0}];
                    const MatrixRM& in1 = c.at[{fb - 1, 1}];
                    std::vector<Tail> rt{Tail{tt[0], ConstMatrixView(in0.data(), 3, 64), -1},
                                         Tail{tt[1], ConstMatrixView(in1.data(), 2, 64), 0}};
                    MatrixRM lg;
                    std::vector<int> layers_seen;
                    m.forward_tails(ps, rt, fb, [&](const BlockOutput& o) { if (o.seq == 0) layers_seen.push_back(o.layer); }, &lg);
                    BOOST_TEST(max_abs_diff(lg, full) <= 1e-5f);
                    std::vector<int> want;
                    for (int l = fb; l < m.n_layers(); ++l) want.push_back(l);
                    BOOST_TEST(layers_seen == want);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(forward_tails_agrees_with_its_emulation_from_prefill) {
    // check_tails compares the native forward_tails with PrefillTails' emulation (session copies + prefill):
    // parent chains, and resuming from a stored residual at every first_block.
    for (const auto& arch : kArchs) {
        BOOST_TEST_CONTEXT("arch " << arch) {
            const auto& m = tiny(arch);
            auto ps = m.new_session();
            m.prefill(ps, toks({1, 5, 6, 7, 8}));
            const std::vector<std::vector<token_id>> tt{{60, 61}, {70, 71, 72}, {80}, {90, 91}};
            const std::vector<int> parent{-1, 0, 1, 0};
            std::vector<Tail> tails;
            for (std::size_t i = 0; i < tt.size(); ++i) tails.push_back(Tail{tt[i], {}, parent[i]});
            const auto c0 = check_tails(m, ps, tails, 0);
            BOOST_TEST(c0.max_logit_diff <= 1e-4);
            BOOST_TEST(c0.max_residual_diff <= 1e-4);
            BOOST_TEST(c0.hook_calls == tt.size() * static_cast<std::size_t>(m.n_layers()));
            Capture c;
            m.forward_tails(ps, tails, 0, c.hook(), nullptr);
            for (int fb = 1; fb <= m.n_layers(); ++fb) {
                BOOST_TEST_CONTEXT("first_block " << fb) {
                    std::vector<Tail> rt;
                    for (std::size_t i = 0; i < tt.size(); ++i) {
                        const MatrixRM& in = c.at[{fb - 1, i}];
                        rt.push_back(Tail{tt[i], ConstMatrixView(in.data(), static_cast<std::size_t>(in.rows()), 64), parent[i]});
                    }
                    const auto cf = check_tails(m, ps, rt, fb);
                    BOOST_TEST(cf.max_logit_diff <= 1e-4);
                    BOOST_TEST(cf.max_residual_diff <= 1e-4);
                    BOOST_TEST(cf.hook_calls == tt.size() * static_cast<std::size_t>(m.n_layers() - fb));
                }
            }
            // The adapter keeps forward_tails' argument checks.
            const PrefillTails<LlamaModel> pt(m);
            const std::vector<Tail> bad{Tail{tt[0], {}, 0}};
            BOOST_CHECK_THROW(pt.forward_tails(ps, bad, 0), w2s::invalid_argument);
            BOOST_CHECK_THROW(pt.forward_tails(ps, tails, m.n_layers() + 1), w2s::invalid_argument);
        }
    }
    static_assert(Backend<PrefillTails<LlamaModel>> && LastLogitsPrefill<PrefillTails<LlamaModel>> &&
                  ChatTemplates<PrefillTails<LlamaModel>> && !SelectiveLogits<PrefillTails<LlamaModel>>);
}

BOOST_AUTO_TEST_CASE(steering_changes_only_the_positions_it_touches) {
    const auto& m = tiny();
    const auto seq = toks({1, 20, 21, 22, 23, 24, 25, 26});
    const std::size_t p0 = 5;
    const int layer = 1;
    Eigen::RowVectorXf v = Eigen::RowVectorXf::LinSpaced(64, -2.f, 2.f);
    Hook steer = [&](const BlockOutput& o) {
        if (o.layer != layer) return;
        for (std::size_t r = 0; r < o.residual.rows; ++r)
            if (o.pos0 + r >= p0)
                Eigen::Map<Eigen::RowVectorXf>(o.residual.row(r), 64) += v;
    };
    auto s0 = m.new_session(), s1 = m.new_session();
    MatrixRM base, steered;
    m.prefill(s0, seq, {}, &base);
    m.prefill(s1, seq, steer, &steered);
    BOOST_TEST(max_abs_diff(base.topRows(p0), steered.topRows(p0)) <= 1e-6f);
    for (std::size_t r = p0; r < seq.size(); ++r)
        BOOST_TEST((base.row(static_cast<Eigen::Index>(r)) - steered.row(static_cast<Eigen::Index>(r))).cwiseAbs().maxCoeff() > 1e-2f);

    // the same steering through forward_tails of a prefix gives the same logits
    auto ps = m.new_session();
    m.prefill(ps, std::span(seq).first(4));
    std::vector<Tail> tails{Tail{std::span(seq).subspan(4), {}, -1}};
    MatrixRM tl;
    m.forward_tails(ps, tails, 0, steer, &tl);
    BOOST_TEST(max_abs_diff(tl, steered.bottomRows(4)) <= 1e-5f);
}

BOOST_AUTO_TEST_CASE(sliding_window_limits_what_a_position_sees) {
    // every block slides (pattern > n_layers), window 4, 3 blocks: position p sees back to p - 3*3 at most
    const auto& m = tiny("gemma3", true, 100);
    BOOST_TEST((m.hparams().swa == std::vector<std::uint8_t>{1, 1, 1}));
    auto a = toks({1, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33});
    auto b = a;
    b[0] = 2;  // change the first token
    auto sa = m.new_session(), sb = m.new_session();
    MatrixRM la, lb;
    m.prefill(sa, a, {}, &la);
    m.prefill(sb, b, {}, &lb);
    BOOST_TEST((la.row(9) - lb.row(9)).cwiseAbs().maxCoeff() > 1e-4f);   // within reach
    BOOST_TEST((la.row(10) - lb.row(10)).cwiseAbs().maxCoeff() <= 1e-6f); // beyond 3 windows
    BOOST_TEST((la.row(14) - lb.row(14)).cwiseAbs().maxCoeff() <= 1e-6f);
}

BOOST_AUTO_TEST_CASE(forks_are_independent) {
    const auto& m = tiny();
    auto s = m.new_session();
    m.prefill(s, toks({1, 3, 4, 5}));
    auto f1 = s;
    auto f2 = s;
    MatrixRM l1, l2, r1, r2;
    m.prefill(f1, toks({6, 7}), {}, &l1);
    m.prefill(f2, toks({8, 9, 10}), {}, &l2);
    BOOST_TEST(s.size() == 4u);
    BOOST_TEST(f1.size() == 6u);
    BOOST_TEST(f2.size() == 7u);
    auto a = m.new_session(), b = m.new_session();
    m.prefill(a, toks({1, 3, 4, 5, 6, 7}), {}, &r1);
    m.prefill(b, toks({1, 3, 4, 5, 8, 9, 10}), {}, &r2);
    BOOST_TEST(max_abs_diff(l1, r1.bottomRows(2)) <= 1e-5f);
    BOOST_TEST(max_abs_diff(l2, r2.bottomRows(3)) <= 1e-5f);
    // truncate rolls back
    f2.truncate(4);
    MatrixRM l3;
    m.prefill(f2, toks({6, 7}), {}, &l3);
    BOOST_TEST(max_abs_diff(l3, l1) <= 1e-5f);
}

BOOST_AUTO_TEST_CASE(one_model_many_threads) {
    const auto& m = tiny("qwen2");
    std::vector<std::vector<token_id>> prompts;
    for (int t = 0; t < 4; ++t) {
        std::vector<token_id> p{1};
        for (int i = 0; i < 20 + 3 * t; ++i) p.push_back(3 + (i * 7 + t * 13) % 256);
        prompts.push_back(p);
    }
    std::vector<MatrixRM> serial(prompts.size()), parallel(prompts.size());
    for (std::size_t t = 0; t < prompts.size(); ++t) {
        auto s = m.new_session();
        m.prefill(s, prompts[t], {}, &serial[t]);
    }
    std::vector<std::thread> th;
    for (std::size_t t = 0; t < prompts.size(); ++t)
        th.emplace_back([&, t] {
            for (int rep = 0; rep < 3; ++rep) {
                auto s = m.new_session();
                m.prefill(s, std::span(prompts[t]).first(10), {});
                MatrixRM rest;
                m.prefill(s, std::span(prompts[t]).subspan(10), {}, &rest);
                parallel[t] = rest;
            }
        });
    for (auto& x : th) x.join();
    for (std::size_t t = 0; t < prompts.size(); ++t)
        // relative to the logits' size: one pass and two chunks take other kernel tilings (sums in another order)
        BOOST_TEST(max_abs_diff(parallel[t], serial[t].bottomRows(parallel[t].rows())) <=
                   1e-5f * std::max(1.f, serial[t].cwiseAbs().maxCoeff()));
}

BOOST_AUTO_TEST_CASE(a_throwing_hook_leaves_the_session_unchanged) {
    const auto& m = tiny();
    auto s = m.new_session();
    m.prefill(s, toks({1, 3, 4}));
    BOOST_CHECK_THROW(m.prefill(s, toks({5, 6}), [](const BlockOutput& o) {
                          if (o.layer == 1) throw std::runtime_error("stop");
                      }),
                      std::runtime_error);
    BOOST_TEST(s.size() == 3u);
    MatrixRM a, b;
    m.prefill(s, toks({5, 6}), {}, &a);
    auto r = m.new_session();
    m.prefill(r, toks({1, 3, 4, 5, 6}), {}, &b);
    BOOST_TEST(max_abs_diff(a, b.bottomRows(2)) <= 1e-5f);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused_with_context) {
    const auto& m = tiny();
    auto s = m.new_session();
    BOOST_CHECK_THROW(m.prefill(s, toks({1, 999})), w2s::invalid_argument);
    BOOST_TEST(s.size() == 0u);
    m.prefill(s, toks({1, 2}));
    const auto t = toks({5});
    std::vector<Tail> bad_parent{Tail{t, {}, 0}};
    BOOST_CHECK_THROW(m.forward_tails(s, bad_parent, 0), w2s::invalid_argument);
    std::vector<Tail> no_input{Tail{t, {}, -1}};
    try {
        m.forward_tails(s, no_input, 2);
        BOOST_FAIL("expected an error");
    } catch (const w2s::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()).find("tail 0: input is 0x0, expected 1x64") != std::string::npos, e.what());
    }
    BOOST_CHECK_THROW(m.forward_tails(s, no_input, 4), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(load_errors_name_the_file_and_tensor) {
    // copy the tiny model with blk.1.attn_q.weight replaced by a 64x32 matrix
    const std::string src = test::make_tiny_llama(tmp_dir() + "/bad", 3);
    gguf::File f(src);
    gguf::Writer w;
    for (const auto& k : f.keys())
        if (k != "general.alignment") w.set(k, f.get(k));
    for (const auto& t : f.tensors()) {
        if (t.name == "blk.1.attn_q.weight") {
            std::vector<float> z(64 * 32, 0.f);
            w.add_tensor_f32(t.name, {64, 32}, z);
        } else if (t.name != "blk.2.ffn_up.weight") {
            w.add_tensor(t.name, t.type, t.ne, std::span(t.data, t.n_bytes));
        }
    }
    const std::string bad = tmp_dir() + "/bad/broken.gguf";
    w.write(bad);
    try {
        (void)LlamaModel::load(bad);
        BOOST_FAIL("expected an error");
    } catch (const w2s::error& e) {
        const std::string msg = e.what();
        BOOST_TEST(msg.find("loading " + bad + ": tensor blk.1.attn_q.weight: expected 64x64, got 64x32") != std::string::npos, msg);
        BOOST_TEST(e.kind() == "shape_error");
    }
    // a missing tensor
    gguf::Writer w2;
    for (const auto& k : f.keys()) w2.set(k, f.get(k));
    for (const auto& t : f.tensors())
        if (t.name != "blk.2.ffn_up.weight") w2.add_tensor(t.name, t.type, t.ne, std::span(t.data, t.n_bytes));
    const std::string missing = tmp_dir() + "/bad/missing.gguf";
    w2.write(missing);
    try {
        (void)LlamaModel::load(missing);
        BOOST_FAIL("expected an error");
    } catch (const w2s::error& e) {
        BOOST_TEST(std::string(e.what()).find("tensor blk.2.ffn_up.weight is missing") != std::string::npos, e.what());
    }
    // an unknown architecture
    gguf::Writer w3;
    for (const auto& k : f.keys()) w3.set(k, f.get(k));
    w3.set("general.architecture", gguf::Value::from_string("mamba"));
    const std::string arch = tmp_dir() + "/bad/arch.gguf";
    w3.write(arch);
    try {
        (void)LlamaModel::load(arch);
        BOOST_FAIL("expected an error");
    } catch (const w2s::error& e) {
        BOOST_TEST(e.kind() == "unsupported_error");
        BOOST_TEST(std::string(e.what()).find("architecture 'mamba' is not supported") != std::string::npos, e.what());
    }
}

namespace {
/// A copy of `src` with the given metadata keys set (or replaced) and the rope_freqs.weight tensor added when
/// `rope_freqs` is not empty; the path of the copy.
std::string rewritten(const std::string& src, const std::string& name, const std::map<std::string, gguf::Value>& keys,
                      const std::vector<float>& rope_freqs = {}) {
    gguf::File f(src);
    gguf::Writer w;
    for (const auto& k : f.keys())
        if (k != "general.alignment" && !keys.contains(k)) w.set(k, f.get(k));
    for (const auto& [k, v] : keys) w.set(k, v);
    for (const auto& t : f.tensors()) w.add_tensor(t.name, t.type, t.ne, std::span(t.data, t.n_bytes));
    if (!rope_freqs.empty()) w.add_tensor_f32("rope_freqs.weight", {rope_freqs.size()}, rope_freqs);
    const std::string out = tmp_dir() + "/hparams/" + name + ".gguf";
    w.write(out);
    return out;
}

/// The message of the w2s::error that loading `path` throws (fails the test when it loads).
std::string load_error(const std::string& path) {
    try {
        (void)LlamaModel::load(path);
    } catch (const w2s::error& e) {
        return e.what();
    }
    BOOST_ERROR("loading " << path << " should have failed");
    return {};
}
}  // namespace

BOOST_AUTO_TEST_CASE(damaged_hyperparameters_are_refused_before_anything_runs) {
    // Non-finite or impossible numbers would give NaN logits with no error; sizes whose product overflows an int,
    // or a head size of 0, would size buffers wrongly; a block count beyond the file's tensors would allocate by it.
    const std::string src = test::make_tiny_llama(tmp_dir() + "/hparams", 3);
    using V = gguf::Value;
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    const std::vector<std::tuple<std::string, std::map<std::string, V>, std::string>> cases{
        {"eps_nan", {{"llama.attention.layer_norm_rms_epsilon", V::from_f32(nan)}}, "'llama.attention.layer_norm_rms_epsilon': expected a finite number > 0, got nan"},
        {"eps_zero", {{"llama.attention.layer_norm_rms_epsilon", V::from_f32(0.f)}}, "'llama.attention.layer_norm_rms_epsilon': expected a finite number > 0, got 0"},
        {"eps_underflow", {{"llama.attention.layer_norm_rms_epsilon", V::from_f64(1e-60)}}, "layer_norm_rms_epsilon': expected a finite number > 0"},
        {"base_inf", {{"llama.rope.freq_base", V::from_f32(inf)}}, "'llama.rope.freq_base': expected a finite number > 0, got inf"},
        {"base_negative", {{"llama.rope.freq_base", V::from_f32(-10000.f)}}, "'llama.rope.freq_base': expected a finite number > 0"},
        {"scale_inf", {{"llama.rope.scaling.type", V::from_string("linear")}, {"llama.rope.scaling.factor", V::from_f32(inf)}}, "'llama.rope.scaling.factor': expected a finite number > 0"},
        {"softcap_nan", {{"llama.attn_logit_softcapping", V::from_f32(nan)}}, "'llama.attn_logit_softcapping': expected a finite number >= 0, got nan"},
        {"softcap_negative", {{"llama.final_logit_softcapping", V::from_f32(-30.f)}}, "'llama.final_logit_softcapping': expected a finite number >= 0"},
        {"attn_scale_zero", {{"llama.attention.scale", V::from_f32(0.f)}}, "'llama.attention.scale': expected a finite number > 0"},
        {"head_zero", {{"llama.attention.head_count", V::from_u32(128)}, {"llama.attention.head_count_kv", V::from_u32(128)}}, "gives a head size of 0"},
        {"heads_overflow", {{"llama.attention.head_count", V::from_u32(1u << 16)}, {"llama.attention.head_count_kv", V::from_u32(1u << 16)}, {"llama.attention.key_length", V::from_u32(1u << 16)}}, "head_count x key_length = 65536 x 65536 = 4294967296, beyond 2^30"},
        {"blocks_huge", {{"llama.block_count", V::from_u32(1u << 29)}}, "'llama.block_count': 536870912 blocks, but the file has only"},
    };
    for (const auto& [name, keys, want] : cases) {
        const std::string msg = load_error(rewritten(src, name, keys));
        BOOST_TEST(msg.find(want) != std::string::npos, name << ": " << msg);
        BOOST_TEST(msg.find("loading ") == 0u, name << ": " << msg);  // the file is named
    }
    // llama3 frequency factors: a zero divides RoPE's frequency by zero
    const std::string ff = rewritten(src, "rope_freqs_zero", {}, {1.f, 0.f, 1.f, 1.f, 1.f, 1.f, 1.f, 1.f});
    const std::string msg = load_error(ff);
    BOOST_TEST(msg.find("tensor rope_freqs.weight: factor 1 is 0.000000; expected finite factors > 0") != std::string::npos, msg);
    // and the untouched copy still loads (the rewrite itself damages nothing)
    BOOST_CHECK_NO_THROW((void)LlamaModel::load(rewritten(src, "untouched", {})));
    BOOST_CHECK_NO_THROW((void)LlamaModel::load(rewritten(src, "good_freqs", {}, std::vector<float>(8, 1.f))));
}

BOOST_AUTO_TEST_CASE(tokenizer_and_template_come_from_the_file) {
    const auto& m = tiny();
    const auto ids = m.tokenizer().encode("in the cat");
    BOOST_TEST(!ids.empty());
    BOOST_TEST(m.tokenizer().decode(ids) == "in the cat");
    // " the" is one token by the merges
    BOOST_TEST(std::count(ids.begin(), ids.end(), 261) == 1);
}

// ---- BatchedDecode: several sessions advanced by one forward pass ---------------------------------------------
namespace {

using Session = LlamaModel::Session;

/// A different steering vector per sequence (seq s adds (s + 1) * v at block 1 and -v at block 2), so that a row
/// that got another row's steering, or none, shows in its numbers.
Hook per_row_steering() {
    return [](const BlockOutput& o) {
        const float k = o.layer == 1 ? static_cast<float>(o.seq + 1) : o.layer == 2 ? -1.0f : 0.0f;
        if (k == 0.0f) return;
        for (std::size_t r = 0; r < o.residual.rows; ++r)
            for (std::size_t j = 0; j < o.residual.cols; ++j)
                o.residual.row(r)[j] += k * 0.1f * static_cast<float>((j * 7 + o.seq * 3) % 11) - 0.5f * k;
    };
}

bool bitwise_equal(const MatrixRM& a, const MatrixRM& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           std::equal(a.data(), a.data() + a.size(), b.data());
}

}  // namespace

BOOST_AUTO_TEST_CASE(decode_batch_equals_each_sequence_alone_bit_for_bit) {
    static_assert(BatchedDecode<LlamaModel>);
    for (const auto& arch : kArchs)
    for (const bool q8 : {false, true}) {  // with int8 activations too: each row is quantized on its own
        BOOST_TEST_CONTEXT("arch " << arch << (q8 ? ", q8 activations" : "")) {
            const auto& m = q8 ? tiny_q8(arch) : tiny(arch);
            // five sessions of different lengths (0, 1, 3, 9, 14 tokens: the SWA window of 4 is crossed)
            const std::vector<std::size_t> lens{0, 1, 3, 9, 14};
            std::vector<Session> batched, alone;
            for (std::size_t i = 0; i < lens.size(); ++i) {
                auto s = m.new_session();
                std::vector<token_id> p;
                for (std::size_t t = 0; t < lens[i]; ++t) p.push_back(static_cast<token_id>(3 + (t * 5 + i * 17) % 250));
                m.prefill(s, p);
                batched.push_back(s);
                alone.push_back(s);
            }
            // Three steps: one token per sequence, then a mix with chunks of 2, 6 and 3 tokens (both kernel paths;
            // one step without logits), then one token again.
            const std::vector<std::vector<std::vector<token_id>>> rounds{
                {{10}, {11}, {12}, {13}, {14}},
                {{20}, {21, 22}, {23, 24, 25, 26, 27, 28}, {29}, {30, 31, 32}},
                {{40}, {41}, {42}, {43}, {44}}};
            for (std::size_t round = 0; round < rounds.size(); ++round) {
                std::vector<BatchStep<Session>> steps, steps_alone;
                for (std::size_t i = 0; i < lens.size(); ++i) {
                    const bool want = !(round == 1 && i == 3);
                    steps.push_back({&batched[i], rounds[round][i], want});
                    steps_alone.push_back({&alone[i], rounds[round][i], want});
                }
                Capture cb, ca;
                const Hook steer = per_row_steering();
                auto both = [&](Capture& c) {
                    auto ch = c.hook();
                    return Hook([steer, ch](const BlockOutput& o) {
                        steer(o);
                        ch(o);
                    });
                };
                MatrixRM lb, la;
                m.decode_batch(steps, both(cb), &lb);
                decode_steps_one_by_one(m, std::span<const BatchStep<Session>>(steps_alone), both(ca), &la);
                BOOST_TEST(lb.rows() == static_cast<Eigen::Index>(lens.size()));
                BOOST_TEST(bitwise_equal(lb, la), "round " << round);
                BOOST_TEST((cb.at.size() == ca.at.size()));
                for (const auto& [key, mat] : ca.at) BOOST_TEST(bitwise_equal(cb.at.at(key), mat), "round " << round << " layer " << key.first << " seq " << key.second);
                if (round == 1) BOOST_TEST(lb.row(3).isZero());
                // and within tolerance of one prefill of everything (the automatic kernel path of a whole prompt)
                for (std::size_t i = 0; i < lens.size(); ++i) BOOST_TEST(batched[i].size() == alone[i].size());
            }
            for (std::size_t i = 0; i < lens.size(); ++i) {
                BOOST_TEST((std::vector<token_id>(batched[i].tokens().begin(), batched[i].tokens().end()) ==
                            std::vector<token_id>(alone[i].tokens().begin(), alone[i].tokens().end())));
                // the caches continue alike: one more token alone on each gives the same logits
                MatrixRM x, y;
                m.prefill_last_logits(batched[i], toks({50}), {}, &x);
                m.prefill_last_logits(alone[i], toks({50}), {}, &y);
                BOOST_TEST(bitwise_equal(x, y), "session " << i);
            }
        }
    }
}

// LoadOptions::Activations::q8: prompts of more than 4 tokens are computed exactly (the same bits as the exact
// model), the steps of generation take int8 activations (other bits where the build has the integer path) and stay
// close to the exact logits; steering hooks see and change the same residual rows.
BOOST_AUTO_TEST_CASE(q8_activations_change_only_generation_and_stay_close_to_the_exact_logits) {
    const bool has_path = w2s::kernels::has_q8_path(w2s::gguf::TensorType::Q8_0);
    for (const auto& arch : kArchs) {
        BOOST_TEST_CONTEXT("arch " << arch) {
            const auto& ex = tiny(arch);
            const auto& q8 = tiny_q8(arch);
            BOOST_TEST((q8.activations() == Activations::q8));
            BOOST_TEST((ex.activations() == Activations::exact));
            std::vector<token_id> prompt;
            for (int i = 0; i < 12; ++i) prompt.push_back(3 + (i * 29) % 250);
            auto se = ex.new_session(), sq = q8.new_session();
            MatrixRM le, lq;
            ex.prefill(se, prompt, {}, &le);
            q8.prefill(sq, prompt, {}, &lq);
            BOOST_TEST(bitwise_equal(le, lq));  // a prompt: the exact products
            bool differs = false;
            float worst = 0.f;
            for (int t = 0; t < 8; ++t) {
                const auto one = toks({40 + t});
                ex.prefill_last_logits(se, one, {}, &le);
                q8.prefill_last_logits(sq, one, {}, &lq);
                differs = differs || !bitwise_equal(le, lq);
                worst = std::max(worst, max_abs_diff(le, lq) / std::max(1.f, le.cwiseAbs().maxCoeff()));
                BOOST_TEST(lq.allFinite());
            }
            BOOST_TEST_MESSAGE(arch << ": worst |q8 - exact| / max|logit| over 8 steps " << worst);
            BOOST_TEST(worst <= 2e-2f);
            BOOST_TEST(differs == has_path);  // the integer path was taken where the build has it
            // a steering hook on a generation step: same rows, same shift, on both
            const Hook add = [](const BlockOutput& o) {
                if (o.layer == 1) o.residual.row(o.residual.rows - 1)[0] += 3.f;
            };
            MatrixRM se_l, sq_l;
            ex.prefill_last_logits(se, toks({60}), add, &se_l);
            q8.prefill_last_logits(sq, toks({60}), add, &sq_l);
            BOOST_TEST(max_abs_diff(se_l, sq_l) / std::max(1.f, se_l.cwiseAbs().maxCoeff()) <= 2e-2f);
            BOOST_TEST(max_abs_diff(se_l, le) > 1e-4f);  // the hook did change the logits
        }
    }
}

BOOST_AUTO_TEST_CASE(decode_batch_of_one_token_per_row_equals_generation_one_token_at_a_time) {
    // Greedy decoding of 4 sequences together == each alone with prefill of one token at a time (what generate does).
    const auto& m = tiny("qwen2");
    const std::vector<std::vector<token_id>> prompts{toks({1, 5, 6, 7, 8, 9, 10}), toks({1, 40}), toks({1, 70, 71, 72}), toks({1, 90, 91, 92, 93, 94, 95, 96, 97})};
    std::vector<Session> ss;
    std::vector<token_id> next;
    for (const auto& p : prompts) {
        ss.push_back(m.new_session());
        MatrixRM lg;
        m.prefill_last_logits(ss.back(), p, {}, &lg);
        next.push_back(argmax(std::span<const float>(lg.data(), static_cast<std::size_t>(lg.cols()))));
    }
    std::vector<Session> ref = ss;
    std::vector<token_id> ref_next = next;
    for (int step = 0; step < 6; ++step) {
        std::vector<BatchStep<Session>> steps;
        for (std::size_t i = 0; i < ss.size(); ++i) steps.push_back({&ss[i], std::span<const token_id>(&next[i], 1)});
        MatrixRM lg;
        m.decode_batch(steps, {}, &lg);
        for (std::size_t i = 0; i < ss.size(); ++i) {
            next[i] = argmax(std::span<const float>(lg.row(static_cast<Eigen::Index>(i)).data(), static_cast<std::size_t>(lg.cols())));
            MatrixRM one;
            m.prefill(ref[i], std::span<const token_id>(&ref_next[i], 1), {}, &one);
            ref_next[i] = argmax(std::span<const float>(one.data(), static_cast<std::size_t>(one.cols())));
            BOOST_TEST(bitwise_equal(lg.row(static_cast<Eigen::Index>(i)), one), "step " << step << " row " << i);
        }
        BOOST_TEST(next == ref_next);
    }
}

BOOST_AUTO_TEST_CASE(decode_batch_refuses_bad_steps_and_rolls_back_on_an_exception) {
    const auto& m = tiny();
    auto a = m.new_session(), b = m.new_session();
    m.prefill(a, toks({1, 3, 4}));
    m.prefill(b, toks({1, 5}));
    const auto t1 = toks({7}), t2 = toks({8, 9});
    const std::vector<token_id> none;
    std::vector<BatchStep<Session>> dup{{&a, t1}, {&a, t2}};
    BOOST_CHECK_THROW(m.decode_batch(dup), w2s::invalid_argument);
    std::vector<BatchStep<Session>> empty{{&a, t1}, {&b, none}};
    BOOST_CHECK_THROW(m.decode_batch(empty), w2s::invalid_argument);
    std::vector<BatchStep<Session>> null{{nullptr, t1}};
    BOOST_CHECK_THROW(m.decode_batch(null), w2s::invalid_argument);
    std::vector<BatchStep<Session>> ok{{&a, t1}, {&b, t2}};
    BOOST_CHECK_THROW(m.decode_batch(ok, [](const BlockOutput& o) {
                          if (o.layer == 2 && o.seq == 1) throw std::runtime_error("stop");
                      }),
                      std::runtime_error);
    BOOST_TEST(a.size() == 3u);
    BOOST_TEST(b.size() == 2u);
    MatrixRM x, y;
    m.decode_batch(ok, {}, &x);
    auto a2 = m.new_session(), b2 = m.new_session();
    m.prefill(a2, toks({1, 3, 4}));
    m.prefill(b2, toks({1, 5}));
    std::vector<BatchStep<Session>> ok2{{&a2, t1}, {&b2, t2}};
    decode_steps_one_by_one(m, std::span<const BatchStep<Session>>(ok2), {}, &y);
    BOOST_TEST(bitwise_equal(x, y));
    MatrixRM none_logits;
    m.decode_batch({}, {}, &none_logits);
    BOOST_TEST(none_logits.rows() == 0);
}
