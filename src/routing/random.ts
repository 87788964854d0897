/**
 * Randomness for the policies: a `Random` is a function returning a number in [0, 1),
 * Math.random by default and a seeded generator in tests, so that splits and bandit runs
 * are reproducible. The samplers draw from the distributions Thompson sampling needs.
 */
export type Random = () => number;

/**
 * A seeded generator (sfc32: small, fast, passes PractRand to 2^40+ bytes). The same seed
 * gives the same sequence.
 */
export function seededRandom(seed: number): Random {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

/** A draw from the standard normal distribution (Marsaglia's polar method). */
export function sampleNormal(random: Random): number {
  for (;;) {
    const u = 2 * random() - 1;
    const v = 2 * random() - 1;
    const s = u * u + v * v;
    if (s > 0 && s < 1) return u * Math.sqrt((-2 * Math.log(s)) / s);
  }
}

/** A draw from Gamma(shape, 1), shape > 0 (Marsaglia and Tsang). */
export function sampleGamma(random: Random, shape: number): number {
  if (shape < 1) {
    // Gamma(a) = Gamma(a + 1) * U^(1/a)
    const u = 1 - random();
    return sampleGamma(random, shape + 1) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A draw from Beta(a, b), a, b > 0. */
export function sampleBeta(random: Random, a: number, b: number): number {
  const x = sampleGamma(random, a);
  const y = sampleGamma(random, b);
  return x / (x + y);
}
