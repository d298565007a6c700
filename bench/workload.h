// Workload generators shared by the microbenchmarks: uniform and zipf-skewed member ids,
// precomputed so the timed loops measure the structure, not the random number generator.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace podium::bench {

inline std::vector<uint64_t> UniformIds(size_t count, uint64_t universe, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<uint64_t> ids(count);
  for (uint64_t& id : ids) id = random() % universe;
  return ids;
}

// Zipf with exponent `skew` over [0, universe): id k is drawn with weight 1/(k+1)^skew, then
// scattered by a fixed permutation so the hot ids are not also the smallest.
inline std::vector<uint64_t> ZipfIds(size_t count, uint64_t universe, double skew, uint64_t seed) {
  std::vector<double> cumulative(universe);
  double total = 0;
  for (uint64_t k = 0; k < universe; ++k) {
    total += 1.0 / std::pow(static_cast<double>(k + 1), skew);
    cumulative[k] = total;
  }
  std::vector<uint64_t> scatter(universe);
  for (uint64_t k = 0; k < universe; ++k) scatter[k] = k;
  std::mt19937_64 random(seed);
  std::shuffle(scatter.begin(), scatter.end(), random);
  std::uniform_real_distribution<double> uniform(0, total);
  std::vector<uint64_t> ids(count);
  for (uint64_t& id : ids) {
    const double point = uniform(random);
    const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), point);
    id = scatter[std::min<uint64_t>(it - cumulative.begin(), universe - 1)];
  }
  return ids;
}

}  // namespace podium::bench
