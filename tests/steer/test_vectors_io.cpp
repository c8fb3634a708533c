// Vector sets and llama.cpp control-vector files: round trip, the block-0 refusal, damaged files.
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

#include <w2s/gguf/reader.hpp>
#include <w2s/gguf/writer.hpp>
#include <w2s/steer/control_vector.hpp>

#include "scratch.hpp"

using namespace w2s::steer;

namespace {

VectorSet random_set(int n_layers, int hidden, std::vector<int> layers, unsigned seed) {
    VectorSet vs(n_layers, hidden);
    std::mt19937 g(seed);
    std::normal_distribution<float> N(0, 1);
    for (int l : layers) {
        std::vector<float> v(static_cast<std::size_t>(hidden));
        for (auto& x : v) x = N(g);
        vs.set(l, v);
    }
    return vs;
}

std::string path_of(const std::string& name) { return (w2s::test::scratch_dir() / name).string(); }

template <class Ex, class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const Ex& e) {
        return e.what();
    }
    return "(no exception of the expected kind)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(vector_files)

BOOST_AUTO_TEST_CASE(vector_set_basics) {
    VectorSet vs(4, 3);
    BOOST_TEST(vs.layers().empty());
    std::vector<float> v{1, 2, 3};
    vs.set(2, v);
    BOOST_TEST(vs.has(2));
    BOOST_TEST(!vs.has(1));
    BOOST_TEST(vs.layers() == std::vector<int>{2});
    BOOST_TEST(vs.at(2)[1] == 2.0f);
    BOOST_TEST(vs.matrix().row(1).norm() == 0.0f);
    BOOST_CHECK_THROW((void)vs.at(1), w2s::invalid_argument);
    BOOST_CHECK_THROW(vs.set(4, v), w2s::invalid_argument);
    std::vector<float> wrong{1, 2};
    BOOST_CHECK_THROW(vs.set(0, wrong), w2s::shape_error);
    vs.erase(2);
    BOOST_TEST(!vs.has(2));
    BOOST_CHECK_THROW(VectorSet(0, 3), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(round_trip_in_llama_cpp_format) {
    VectorSet vs = random_set(30, 576, {1, 2, 7, 29}, 1);
    vs.model_hint = "llama";
    vs.estimator = "pca";
    const std::string p = path_of("cv.gguf");
    save_control_vector(vs, p);

    // The file is what llama.cpp expects.
    w2s::gguf::File f(p);
    BOOST_TEST(f.get_string("general.architecture") == "controlvector");
    BOOST_TEST(f.get_string("controlvector.model_hint") == "llama");
    BOOST_TEST(f.get_int("controlvector.layer_count") == 29);
    BOOST_TEST(f.tensors().size() == 4u);
    const auto& t = f.tensor("direction.7");
    BOOST_TEST((t.type == w2s::gguf::TensorType::F32));
    BOOST_TEST(t.ne == std::vector<std::uint64_t>{576});

    const VectorSet back = load_control_vector(p);
    BOOST_TEST(back.n_layers() == 30);
    BOOST_TEST(back.hidden() == 576);
    BOOST_TEST(back.layers() == vs.layers());
    BOOST_TEST(back.estimator == "pca");
    BOOST_TEST(back.model_hint == "llama");
    for (int l : vs.layers())
        for (int j = 0; j < 576; ++j) BOOST_TEST(back.at(l)[static_cast<std::size_t>(j)] == vs.at(l)[static_cast<std::size_t>(j)]);  // bit-exact by design
    BOOST_TEST(load_control_vector(p, 32).n_layers() == 32);
    BOOST_TEST(message_of<w2s::format_error>([&] { (void)load_control_vector(p, 20); }).find("direction.29") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(block_zero_is_refused) {
    VectorSet vs = random_set(4, 8, {0, 1}, 2);
    const std::string msg = message_of<w2s::invalid_argument>([&] { save_control_vector(vs, path_of("zero.gguf")); });
    BOOST_TEST(msg.find("block 0") != std::string::npos);
    vs.erase(0);
    BOOST_CHECK_NO_THROW(save_control_vector(vs, path_of("zero.gguf")));
    BOOST_CHECK_THROW(save_control_vector(VectorSet(4, 8), path_of("empty.gguf")), w2s::invalid_argument);

    // A file holding direction.0 (which llama.cpp rejects) is refused on load.
    w2s::gguf::Writer w;
    w.set("general.architecture", w2s::gguf::Value::from_string("controlvector"));
    std::vector<float> v(8, 1.0f);
    w.add_tensor_f32("direction.0", {8}, v);
    w.write(path_of("dir0.gguf"));
    BOOST_TEST(message_of<w2s::format_error>([&] { (void)load_control_vector(path_of("dir0.gguf")); }).find("direction.0") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(damaged_files_are_refused) {
    std::vector<float> v(8, 1.0f), w4(4, 1.0f);
    auto write = [&](const std::string& name, const std::string& arch, auto&& add) {
        w2s::gguf::Writer w;
        w.set("general.architecture", w2s::gguf::Value::from_string(arch));
        add(w);
        w.write(path_of(name));
        return path_of(name);
    };
    const auto not_cv = write("llama.gguf", "llama", [&](auto& w) { w.add_tensor_f32("direction.1", {8}, v); });
    BOOST_TEST(message_of<w2s::format_error>([&] { (void)load_control_vector(not_cv); }).find("expected 'controlvector'") !=
               std::string::npos);
    const auto bad_name = write("name.gguf", "controlvector", [&](auto& w) { w.add_tensor_f32("direction.x1", {8}, v); });
    BOOST_CHECK_THROW((void)load_control_vector(bad_name), w2s::format_error);
    const auto widths = write("widths.gguf", "controlvector", [&](auto& w) {
        w.add_tensor_f32("direction.1", {8}, v);
        w.add_tensor_f32("direction.2", {4}, w4);
    });
    BOOST_TEST(message_of<w2s::format_error>([&] { (void)load_control_vector(widths); }).find("direction.2") != std::string::npos);
    const auto matrix = write("matrix.gguf", "controlvector", [&](auto& w) { w.add_tensor_f32("direction.1", {4, 2}, v); });
    BOOST_CHECK_THROW((void)load_control_vector(matrix), w2s::format_error);
    const auto none = write("none.gguf", "controlvector", [&](auto&) {});
    BOOST_CHECK_THROW((void)load_control_vector(none), w2s::format_error);
}

BOOST_AUTO_TEST_SUITE_END()
