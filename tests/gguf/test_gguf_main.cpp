#define BOOST_TEST_MODULE test_gguf
#include <boost/test/unit_test.hpp>
