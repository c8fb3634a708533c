// tests/serve — the continuous-batching scheduler: each request gives exactly the tokens it gives alone and those of
// the library's one-sequence paths (model::generate with the same hook; AdaptiveSteerer::generate for "auto"),
// whatever else runs in the batch; chunked prompts; sampling; cancellation; the queue limit; the errors; bundles
// unloaded while a request holds them.
#define BOOST_TEST_MODULE serve_scheduler
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include <chrono>
#include <thread>

#include <w2s/model/batched_decode.hpp>
#include <w2s/model/prefill_tails.hpp>
#include <w2s/serve/bundles.hpp>
#include <w2s/serve/scheduler.hpp>

#include "serve_fixture.hpp"

using namespace w2s;
using Model = model::LlamaModel;
using Sched = serve::Scheduler<Model>;
using Req = serve::Request<Model>;

namespace {

test::ServeFixture& fx() {
    static test::ServeFixture f;
    return f;
}

serve::BundleRegistry<Model>& registry() {
    static serve::BundleRegistry<Model> r(fx().model, fx().bundles);
    if (r.list().empty()) r.load_all();
    return r;
}

Req request(std::vector<model::token_id> prompt, int max_tokens, std::vector<serve::Steering<Model>> steering = {}) {
    Req r;
    r.prompt = std::move(prompt);
    r.max_tokens = max_tokens;
    r.stop_at_eog = false;
    r.steering = std::move(steering);
    return r;
}

/// The library's one-sequence reference for a request whose entries all have fixed layers: model::generate with the
/// entries' hooks.
std::vector<model::token_id> reference_fixed(const Req& r) {
    std::vector<steer::SteeringHook> hooks;
    const std::size_t P = r.prompt.size();
    for (const auto& e : r.steering)
        hooks.emplace_back(e.bundle->vectors(), e.layer, e.alpha,
                           e.from == serve::SteerFrom::all ? steer::Positions::all() : steer::Positions::from(P - 1));
    model::GenerateOptions go;
    go.max_tokens = r.max_tokens;
    go.sampling = r.sampling;
    go.stop_at_eog = r.stop_at_eog;
    const model::Hook h = [&](const model::BlockOutput& o) {
        for (const auto& x : hooks) x(o);
    };
    return model::generate(fx().model, std::span<const model::token_id>(r.prompt), go, hooks.empty() ? model::Hook{} : h).tokens;
}

/// AdaptiveSteerer::generate of one auto entry: (layer, tokens).
std::pair<int, std::vector<model::token_id>> reference_auto(const Req& r) {
    model::GenerateOptions go;
    go.max_tokens = r.max_tokens;
    go.sampling = r.sampling;
    go.stop_at_eog = r.stop_at_eog;
    return with_bundle(fx().model, r.steering.at(0).bundle->path(), [&](const auto& s) {
        const auto g = s.generate(std::span<const model::token_id>(r.prompt), r.steering[0].alpha, go);
        return std::make_pair(g.layer, g.result.tokens);
    });
}

/// A mix of requests: none, fixed at several layers, auto on both bundles, two entries, from all positions; prompts
/// of 1 to 45 tokens (chunked at 16), some sampled.
std::vector<Req> mixed_requests() {
    auto a = registry().find("alpha");
    auto b = registry().find("beta");
    std::vector<Req> v;
    v.push_back(request(test::ServeFixture::prompt(9, 1), 8));
    v.push_back(request(test::ServeFixture::prompt(12, 2), 7, {{a, 2.0f, 2}}));
    v.push_back(request(test::ServeFixture::prompt(45, 3), 6, {{a, -1.5f, -1}}));
    v.push_back(request(test::ServeFixture::prompt(3, 4), 9, {{b, 3.0f, -1}}));
    v.push_back(request(test::ServeFixture::prompt(1, 5), 5, {{b, 1.0f, 4}}));
    v.push_back(request(test::ServeFixture::prompt(21, 6), 8, {{a, 1.0f, 3}, {b, -2.0f, -1}}));
    v.push_back(request(test::ServeFixture::prompt(17, 7), 6, {{a, 1.5f, 1, serve::SteerFrom::all}}));
    v.push_back(request(test::ServeFixture::prompt(30, 8), 6, {{b, 2.5f, -1, serve::SteerFrom::all}}));
    Req s = request(test::ServeFixture::prompt(14, 9), 10, {{a, 1.0f, 5}});
    s.sampling = {.temperature = 0.9f, .top_k = 40, .top_p = 0.95f, .seed = 77};
    v.push_back(s);
    Req t = request(test::ServeFixture::prompt(6, 10), 10);
    t.sampling = {.temperature = 1.3f, .top_k = 0, .top_p = 1.0f, .seed = 5};
    v.push_back(t);
    return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_bundles_load_and_list) {
    const auto all = registry().list();
    BOOST_TEST(all.size() == 2u);
    const auto a = registry().find("alpha");
    BOOST_REQUIRE(a);
    BOOST_TEST(a->router_kind() == "profile");
    BOOST_TEST(registry().find("beta")->router_kind() == "knn");
    BOOST_TEST(!a->layers().empty());
    BOOST_TEST(!registry().find("gamma"));
}

BOOST_AUTO_TEST_CASE(a_save_s_staging_folder_is_never_a_bundle) {
    // AdaptiveSteerer::save stages NAME.w2s-partial-PID beside NAME: complete or not, the registry skips it and a
    // request cannot name it.
    const std::string d = test::temp_dir("serve_staging");
    std::filesystem::create_directories(d);
    std::filesystem::copy(fx().bundles + "/alpha", d + "/alpha", std::filesystem::copy_options::recursive);
    std::filesystem::copy(fx().bundles + "/alpha", d + "/alpha.w2s-partial-99", std::filesystem::copy_options::recursive);
    serve::BundleRegistry<Model> r(fx().model, d);
    BOOST_TEST(r.load_all() == 1u);
    BOOST_TEST(r.list().size() == 1u);
    BOOST_TEST(!serve::valid_bundle_name("alpha.w2s-partial-99"));
    BOOST_TEST(serve::valid_bundle_name("alpha.v2"));
    std::filesystem::remove_all(d);
}

BOOST_AUTO_TEST_CASE(each_request_alone_equals_the_library_one_sequence_path) {
    Sched sched(fx().model, {.parallel = 1, .prefill_chunk = 16, .threads = 2});
    for (const auto& r : mixed_requests()) {
        const auto res = sched.generate(r);
        BOOST_TEST(static_cast<int>(res.finish.reason) == static_cast<int>(serve::FinishReason::length));
        const bool any_auto = std::any_of(r.steering.begin(), r.steering.end(), [](const auto& e) { return e.layer < 0; });
        if (!any_auto) {
            BOOST_TEST(res.ids() == reference_fixed(r), "prompt " << r.prompt.size());
        } else if (r.steering.size() == 1 && r.steering[0].from == serve::SteerFrom::prompt_end) {
            const auto [layer, ids] = reference_auto(r);
            BOOST_TEST(res.finish.layers.at(0) == layer);
            BOOST_TEST(res.ids() == ids, "prompt " << r.prompt.size());
        } else {
            // the chosen layers, fixed, give the same tokens
            Req fixed = r;
            for (std::size_t i = 0; i < fixed.steering.size(); ++i) fixed.steering[i].layer = res.finish.layers.at(i);
            BOOST_TEST(res.ids() == reference_fixed(fixed), "prompt " << r.prompt.size());
        }
        BOOST_TEST(res.finish.layers.size() == r.steering.size());
        BOOST_TEST(res.finish.text == fx().model.tokenizer().decode(res.ids()));
    }
}

BOOST_AUTO_TEST_CASE(the_steering_of_the_mix_changes_the_tokens) {
    // Otherwise the exactness tests below could not see a row that got another row's steering.
    Sched sched(fx().model, {.parallel = 4, .prefill_chunk = 16, .threads = 2});
    int changed = 0, steered = 0;
    for (auto r : mixed_requests()) {
        if (r.steering.empty() || !r.sampling.greedy()) continue;
        ++steered;
        const auto with = sched.generate(r).ids();
        r.steering.clear();
        changed += with != sched.generate(r).ids();
    }
    BOOST_TEST(changed == steered);
}

BOOST_AUTO_TEST_CASE(concurrent_requests_give_exactly_what_each_gives_alone) {
    const auto reqs = mixed_requests();
    std::vector<std::vector<model::token_id>> alone;
    std::vector<std::vector<int>> alone_layers;
    {
        Sched one(fx().model, {.parallel = 1, .prefill_chunk = 16, .threads = 2});
        for (const auto& r : reqs) {
            const auto res = one.generate(r);
            alone.push_back(res.ids());
            alone_layers.push_back(res.finish.layers);
        }
    }
    for (int parallel : {3, 16}) {
        Sched sched(fx().model, {.parallel = parallel, .prefill_chunk = 16, .threads = 2});
        std::vector<std::shared_ptr<serve::Ticket>> tickets;
        for (const auto& r : reqs) tickets.push_back(sched.submit(r));
        for (std::size_t i = 0; i < reqs.size(); ++i) {
            const auto res = tickets[i]->wait();
            BOOST_TEST(res.ids() == alone[i], "parallel " << parallel << " request " << i);
            BOOST_TEST(res.finish.layers == alone_layers[i]);
        }
        BOOST_TEST(sched.metrics().value("w2s_steps_total") > 0.0);
    }
}

BOOST_AUTO_TEST_CASE(the_backend_emulation_gives_the_same_tokens) {
    // On a backend without decode_batch (PrefillTails hides it) the scheduler runs the steps one by one
    // (model::decode_steps_one_by_one): the slow twin of the batched path, same tokens.
    using PT = model::PrefillTails<Model>;
    static_assert(!model::BatchedDecode<PT>);
    const PT pt(fx().model);
    serve::BundleRegistry<PT> reg(pt, fx().bundles);
    reg.load_all();
    const auto reqs = mixed_requests();
    Sched native(fx().model, {.parallel = 4, .prefill_chunk = 16, .threads = 2});
    serve::Scheduler<PT> slow(pt, {.parallel = 4, .prefill_chunk = 16, .threads = 2});
    std::vector<std::shared_ptr<serve::Ticket>> fast_t, slow_t;
    for (const auto& r : reqs) {
        serve::Request<PT> q;
        q.prompt = r.prompt;
        q.max_tokens = r.max_tokens;
        q.sampling = r.sampling;
        q.stop_at_eog = r.stop_at_eog;
        for (const auto& e : r.steering) q.steering.push_back({reg.find(e.bundle->name()), e.alpha, e.layer, e.from});
        fast_t.push_back(native.submit(r));
        slow_t.push_back(slow.submit(q));
    }
    for (std::size_t i = 0; i < reqs.size(); ++i) {
        const auto a = fast_t[i]->wait(), b = slow_t[i]->wait();
        BOOST_TEST(a.ids() == b.ids(), "request " << i);
        BOOST_TEST(a.finish.layers == b.finish.layers);
    }
}

BOOST_AUTO_TEST_CASE(stop_strings_end_the_text_before_them) {
    Sched sched(fx().model, {.parallel = 2, .threads = 2});
    auto r = request(test::ServeFixture::prompt(8, 21), 12);
    const auto full = sched.generate(r);
    BOOST_REQUIRE(full.finish.text.size() >= 4);
    const std::string stop = full.finish.text.substr(2, 2);
    r.stop = {stop};
    const auto res = sched.generate(r);
    BOOST_TEST(static_cast<int>(res.finish.reason) == static_cast<int>(serve::FinishReason::stop));
    BOOST_TEST(res.finish.text == full.finish.text.substr(0, full.finish.text.find(stop)));
    std::string streamed;
    for (const auto& t : res.tokens) streamed += t.piece;
    streamed += res.finish.flush;
    BOOST_TEST(streamed == res.finish.text);
}

BOOST_AUTO_TEST_CASE(log_probabilities_are_a_log_softmax) {
    Sched sched(fx().model, {.parallel = 2, .threads = 2});
    auto r = request(test::ServeFixture::prompt(8, 22), 3);
    r.top_logprobs = 5;
    const auto res = sched.generate(r);
    BOOST_REQUIRE(res.tokens.size() == 3u);
    for (const auto& t : res.tokens) {
        BOOST_TEST(t.top.size() == 5u);
        BOOST_TEST(t.top[0].id == t.id);  // greedy: the most likely token
        BOOST_TEST(t.logprob == t.top[0].logprob, boost::test_tools::tolerance(1e-5f));
        BOOST_TEST(t.logprob <= 0.0f);
        for (std::size_t i = 1; i < t.top.size(); ++i) BOOST_TEST(t.top[i].logprob <= t.top[i - 1].logprob);
    }
}

BOOST_AUTO_TEST_CASE(cancellation_frees_the_slot) {
    Sched sched(fx().model, {.parallel = 1, .threads = 2});
    auto t = sched.submit(request(test::ServeFixture::prompt(8, 31), 1500));
    auto queued = sched.submit(request(test::ServeFixture::prompt(8, 32), 4));
    while (!t->next(std::chrono::milliseconds(2000))) {
    }  // the first token: it runs
    t->cancel();
    const auto rest = t->wait();
    BOOST_TEST(static_cast<int>(rest.finish.reason) == static_cast<int>(serve::FinishReason::cancelled));
    BOOST_TEST(rest.finish.completion_tokens < 1500u);
    // the request behind it gets the slot and finishes
    const auto q = queued->wait();
    BOOST_TEST(q.tokens.size() == 4u);
    // a cancelled queued request never runs
    auto blocker = sched.submit(request(test::ServeFixture::prompt(8, 33), 1500));
    auto waiting = sched.submit(request(test::ServeFixture::prompt(8, 34), 4));
    waiting->cancel();
    BOOST_TEST(waiting->wait().tokens.empty());
    blocker->cancel();
    (void)blocker->wait();
    for (int i = 0; i < 100 && sched.active() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    BOOST_TEST(sched.active() == 0u);
}

BOOST_AUTO_TEST_CASE(a_full_queue_answers_503) {
    Sched sched(fx().model, {.parallel = 1, .max_queue = 2, .threads = 2});
    std::vector<std::shared_ptr<serve::Ticket>> ts;
    int refused = 0;
    for (int i = 0; i < 6; ++i) {
        try {
            ts.push_back(sched.submit(request(test::ServeFixture::prompt(8, 40 + i), 400)));
        } catch (const serve::request_error& e) {
            BOOST_TEST(e.status() == 503);
            ++refused;
        }
    }
    BOOST_TEST(refused >= 3);  // one running, two waiting (the first may not have been admitted yet: then 3)
    for (auto& t : ts) t->cancel();
    for (auto& t : ts) (void)t->wait();
}

BOOST_AUTO_TEST_CASE(bad_requests_name_their_field) {
    Sched sched(fx().model, {.parallel = 1, .ctx = 64, .threads = 2});
    auto a = registry().find("alpha");
    auto field_of = [&](Req r) -> std::string {
        try {
            (void)sched.submit(std::move(r));
        } catch (const serve::request_error& e) {
            BOOST_TEST(e.status() == 400);
            return e.param();
        }
        return "accepted";
    };
    BOOST_TEST(field_of(request({}, 4)) == "prompt");
    BOOST_TEST(field_of(request({1, 9999}, 4)) == "prompt");
    BOOST_TEST(field_of(request({1, 5}, 0)) == "max_tokens");
    BOOST_TEST(field_of(request(test::ServeFixture::prompt(40, 1), 30)) == "max_tokens");  // 40 + 30 > ctx 64
    BOOST_TEST(field_of(request({1, 5}, 4, {{a, 5000.0f, 2}})) == "steering[0].alpha");
    BOOST_TEST(field_of(request({1, 5}, 4, {{a, 1.0f, 2}, {a, 1.0f, 0}})) == "steering[1].layer");
    BOOST_TEST(field_of(request({1, 5}, 4, {{nullptr, 1.0f, 2}})) == "steering[0].bundle");
    Req s = request({1, 5}, 4);
    s.sampling.top_p = 0.0f;
    BOOST_TEST(field_of(s) == "top_p");
    s.sampling.top_p = 1.0f;
    s.top_logprobs = 21;
    BOOST_TEST(field_of(s) == "top_logprobs");
}

BOOST_AUTO_TEST_CASE(unloading_a_bundle_does_not_disturb_a_request_that_holds_it) {
    serve::BundleRegistry<Model> reg(fx().model, fx().bundles);
    reg.load("alpha");
    auto r = request(test::ServeFixture::prompt(20, 51), 12, {{reg.find("alpha"), 2.0f, -1}});
    Sched sched(fx().model, {.parallel = 2, .threads = 2});
    const auto expect = sched.generate(r).ids();
    auto t = sched.submit(r);
    r.steering.clear();  // the ticket's request holds its own copy of the bundle pointer
    BOOST_TEST(reg.unload("alpha"));
    BOOST_TEST(!reg.find("alpha"));
    BOOST_TEST(!reg.unload("alpha"));
    BOOST_TEST(t->wait().ids() == expect);
    reg.load("alpha");  // and back
    BOOST_TEST(reg.find("alpha"));
    BOOST_CHECK_THROW(reg.load("../alpha"), serve::request_error);
    BOOST_CHECK_THROW(reg.load("nothere"), serve::request_error);
}
