// PODIUM_FUZZ_CHECK: a check that stays on in the storage fuzz targets whatever NDEBUG says,
// and aborts (which libFuzzer reports as a crash, saving the input) with the failed condition.
#pragma once

#include <cstdio>
#include <cstdlib>

#define PODIUM_FUZZ_CHECK(condition)                                                     \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)
