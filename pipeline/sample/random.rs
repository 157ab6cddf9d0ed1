//! Seeded random draws for the sample: one ChaCha stream per entity, so that changing how one
//! entity is generated does not shift the values of the others.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded stream of draws.
pub struct Draws(ChaCha8Rng);

impl Draws {
    /// The stream for `entity` under `seed`.
    pub fn new(seed: u64, entity: &str) -> Draws {
        // FNV-1a of the entity name, so each entity has its own stable stream.
        let salt = entity.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        Draws(ChaCha8Rng::seed_from_u64(seed ^ salt))
    }

    /// Uniform in `[low, high)`.
    pub fn between(&mut self, low: f64, high: f64) -> f64 {
        if high <= low {
            return low;
        }
        self.0.random_range(low..high)
    }

    /// Uniform integer in `[low, high]`.
    pub fn int(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        self.0.random_range(low..=high)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.0.random_bool(p.clamp(0.0, 1.0))
    }

    /// One of `items`, uniformly.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.0.random_range(0..items.len())]
    }

    /// One of `items`, with the given weights.
    pub fn weighted<T: Copy>(&mut self, items: &[(T, f64)]) -> T {
        let total: f64 = items.iter().map(|(_, w)| w).sum();
        let mut x = self.between(0.0, total);
        for (item, w) in items {
            if x < *w {
                return *item;
            }
            x -= w;
        }
        items[items.len() - 1].0
    }

    /// A normal draw (Box-Muller).
    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let u1 = self.between(f64::EPSILON, 1.0);
        let u2 = self.between(0.0, 1.0);
        mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// A right-skewed positive duration with the given median, as real durations are.
    pub fn skewed(&mut self, median: f64, spread: f64) -> f64 {
        median * self.normal(0.0, spread).exp()
    }
}
