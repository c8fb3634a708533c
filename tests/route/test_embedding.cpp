// Standardizer, UserEmbedding, ProjectionEmbedding and the Embedding concept.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <w2s/route/embedding.hpp>
#include <w2s/route/projection_embedding.hpp>

namespace wr = w2s::route;
namespace tt = boost::test_tools;

namespace {
Eigen::VectorXf vec(std::initializer_list<float> v) {
    Eigen::VectorXf r(static_cast<Eigen::Index>(v.size()));
    Eigen::Index i = 0;
    for (float x : v) r(i++) = x;
    return r;
}
struct NoDim {
    using input_type = int;
    [[nodiscard]] Eigen::VectorXf embed(const int&) const { return Eigen::VectorXf::Zero(2); }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(embedding)

BOOST_AUTO_TEST_CASE(concept_checks) {
    static_assert(wr::Embedding<wr::UserEmbedding<int>>);
    static_assert(!wr::Embedding<NoDim>, "an embedding must state its dim()");
    static_assert(!wr::Embedding<wr::Standardizer>, "a Standardizer is not an Embedding");
    BOOST_TEST(true);
}

BOOST_AUTO_TEST_CASE(standardizer_by_hand) {
    // mean = [2, 10], population std = [1, 0 -> 1 (constant feature)]
    wr::Features X(2, 2);
    X << 1, 10, 3, 10;
    wr::Standardizer st;
    BOOST_CHECK_THROW((void)st.transform(X), w2s::invalid_argument);
    st.fit(X);
    BOOST_TEST(st.mean()(0) == 2.0f);
    BOOST_TEST(st.mean()(1) == 10.0f);
    BOOST_TEST(st.stddev()(0) == 1.0f);
    BOOST_TEST(st.stddev()(1) == 1.0f);
    const wr::Features Y = st.transform(X);
    BOOST_TEST(Y(0, 0) == -1.0f);
    BOOST_TEST(Y(1, 0) == 1.0f);
    BOOST_TEST(Y(0, 1) == 0.0f);
    wr::Features Z(3, 1);
    Z << 0, 2, 7;  // mean 3, var (9 + 1 + 16)/3
    st.fit(Z);
    BOOST_TEST(st.stddev()(0) == std::sqrt(26.0f / 3.0f), tt::tolerance(1e-6f));
    std::vector<float> v{6.0f};
    st.transform_inplace(v);
    BOOST_TEST(v[0] == 3.0f / std::sqrt(26.0f / 3.0f), tt::tolerance(1e-6f));
    BOOST_CHECK_THROW((void)st.transform(X), w2s::shape_error);
}

BOOST_AUTO_TEST_CASE(standardizer_round_trip_and_version) {
    wr::Features X(3, 2);
    X << 1, 2, 3, 5, 4, -1;
    wr::Standardizer st;
    st.fit(X);
    std::stringstream ss;
    st.save(ss);
    const std::string bytes = ss.str();
    wr::Standardizer back;
    back.load(ss);
    BOOST_TEST((back.transform(X) == st.transform(X)));
    std::string bad = bytes;
    bad[8 + 4 + 4 + wr::Standardizer::kind.size()] = 2;  // body version 2
    std::istringstream is(bad);
    BOOST_CHECK_THROW(back.load(is), w2s::format_error);
}

BOOST_AUTO_TEST_CASE(user_embedding_table_and_function) {
    std::map<std::string, Eigen::VectorXf> table;
    table["a"] = vec({1, 2});
    table["b"] = vec({3, 6});
    const auto e = wr::UserEmbedding<>::from_table(table);
    BOOST_TEST(e.dim() == 2u);
    BOOST_TEST(e.embed("b")(1) == 6.0f);
    BOOST_CHECK_THROW((void)e.embed("zzz"), w2s::data_error);
    table["c"] = vec({1, 2, 3});
    BOOST_CHECK_THROW((void)wr::UserEmbedding<>::from_table(table), w2s::shape_error);

    const auto f = wr::UserEmbedding<int>::from_function(3, [](const int& k) {
        return k < 0 ? vec({0, 0}) : vec({static_cast<float>(k), 0, 1});
    });
    BOOST_TEST(f.embed(4)(0) == 4.0f);
    BOOST_CHECK_THROW((void)f.embed(-1), w2s::shape_error);  // callable returned the wrong size

    const std::vector<int> keys{1, 2, 3};
    const wr::Features X = wr::embed_all(f, std::span<const int>(keys));
    BOOST_TEST(X.rows() == 3);
    BOOST_TEST(X(2, 0) == 3.0f);
    wr::Standardizer st;
    st.fit(X);
    const wr::Standardized<wr::UserEmbedding<int>> se(f, st);
    const Eigen::VectorXf z = se.embed(3);  // (3 - 2) / sqrt(2/3)
    BOOST_TEST(z(0) == 1.0f / std::sqrt(2.0f / 3.0f), tt::tolerance(1e-6f));
    BOOST_TEST(z(2) == 0.0f);
}


BOOST_AUTO_TEST_CASE(projection_embedding_is_the_dot_product_with_each_unit_vector) {
    // Directions of blocks 4 and 2 (in that order), hidden 3; residuals stored for blocks 1, 2, 4.
    wr::Directions d{{4, 2}, 3, {3, 0, 4, /**/ 0, -2, 0}};
    wr::PromptResiduals in{{1, 2, 4}, 3,
                           {9, 9, 9, /**/ 1, 2, 3, /**/ 0.5f, 1, 2},      // last
                           {7, 7, 7, /**/ -1, 0, 1, /**/ 2, 0, -1}};     // mean
    wr::ProjectionEmbedding last(wr::Pooling::last, d), mean(wr::Pooling::mean, d);
    BOOST_TEST(last.dim() == 2u);
    BOOST_TEST((last.blocks() == std::vector<int>{4, 2}));
    // The slow way: <r_b, v / |v|> per direction, in double.
    auto slow = [&](const std::vector<float>& src, std::size_t row_of_block, std::size_t j) {
        double dot = 0, n2 = 0;
        for (std::size_t c = 0; c < 3; ++c) {
            dot += static_cast<double>(src[row_of_block * 3 + c]) * d.rows[j * 3 + c];
            n2 += static_cast<double>(d.rows[j * 3 + c]) * d.rows[j * 3 + c];
        }
        return dot / std::sqrt(n2);
    };
    const Eigen::VectorXf xl = last.embed(in), xm = mean.embed(in);
    BOOST_TEST(xl(0) == slow(in.last, 2, 0), tt::tolerance(1e-6));  // block 4: (0.5*3 + 2*4) / 5 = 1.9
    BOOST_TEST(xl(0) == 1.9, tt::tolerance(1e-6));
    BOOST_TEST(xl(1) == slow(in.last, 1, 1), tt::tolerance(1e-6));  // block 2: -2*2 / 2 = -2
    BOOST_TEST(xm(0) == slow(in.mean, 2, 0), tt::tolerance(1e-6));
    BOOST_TEST(xm(1) == slow(in.mean, 1, 1), tt::tolerance(1e-6));
    // Rebinding replaces the directions.
    last.bind(wr::Directions{{1}, 3, {0, 0, 2}});
    BOOST_TEST(last.dim() == 1u);
    BOOST_TEST(last.embed(in)(0) == 9.0f, tt::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(projection_embedding_errors_name_the_cause) {
    const wr::PromptResiduals in{{2}, 3, {1, 2, 3}, {1, 2, 3}};
    wr::ProjectionEmbedding e;
    BOOST_TEST(e.dim() == 0u);
    BOOST_CHECK_THROW((void)e.embed(in), w2s::invalid_argument);                               // nothing bound
    BOOST_CHECK_THROW(e.bind(wr::Directions{{2}, 3, {0, 0, 0}}), w2s::invalid_argument);      // a zero vector
    BOOST_CHECK_THROW(e.bind(wr::Directions{{2, 2}, 3, {1, 0, 0, 0, 1, 0}}), w2s::invalid_argument);  // a block twice
    BOOST_CHECK_THROW(e.bind(wr::Directions{{2}, 3, {1, 0}}), w2s::shape_error);              // rows too short
    BOOST_CHECK_THROW(e.bind(wr::Directions{{}, 3, {}}), w2s::invalid_argument);
    e.bind(wr::Directions{{5}, 3, {1, 0, 0}});
    BOOST_CHECK_THROW((void)e.embed(in), w2s::invalid_argument);                               // block 5 not stored
    e.bind(wr::Directions{{2}, 4, {1, 0, 0, 0}});
    BOOST_CHECK_THROW((void)e.embed(in), w2s::shape_error);                                    // width 3 vs 4
    // Settings round trip; anything else is a format error.
    BOOST_TEST(wr::ProjectionEmbedding(wr::Pooling::mean).settings() == "pooling=mean");
    BOOST_TEST((wr::ProjectionEmbedding::from_settings("pooling=mean").pooling() == wr::Pooling::mean));
    BOOST_TEST((wr::ProjectionEmbedding::from_settings("pooling=last").pooling() == wr::Pooling::last));
    BOOST_CHECK_THROW((void)wr::ProjectionEmbedding::from_settings("block=3"), w2s::format_error);
    BOOST_CHECK_THROW((void)wr::ProjectionEmbedding::from_settings("pooling=max"), w2s::invalid_argument);
    static_assert(wr::VectorBoundEmbedding<wr::ProjectionEmbedding>);
    static_assert(!wr::VectorBoundEmbedding<wr::ResidualEmbedding>);
}

BOOST_AUTO_TEST_SUITE_END()
