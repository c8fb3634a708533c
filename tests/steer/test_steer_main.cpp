#define BOOST_TEST_MODULE test_steer
#include <boost/test/unit_test.hpp>
