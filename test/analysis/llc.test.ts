// Known-answer checks of the SGLD local learning coefficient estimator (issue 16, part 2): a regular model, whose
// coefficient is d/2, and a deep linear network, whose coefficient is Aoyagi's (below d/2). Each estimate is a few
// thousand SGLD steps on a few-parameter model (seconds on wasm).
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { Rng } from '../../lib/rng';
import { chainDiagnostics, deepLinearRlct, estimateLlc, LlcLossFn, LlcOptions } from '../../lib/analysis/llc';

function normals(rng: Rng, k: number): Float32Array {
  const a = new Float32Array(k);
  for (let i = 0; i < k; i++) a[i] = rng.normal();
  return a;
}

interface Problem {
  loss: LlcLossFn;
  wStar: Float32Array;
  n: number;
  dispose: () => void;
}

/**
 * y = X w_true + N(0, 0.5^2), X ~ N(0, I), mean squared error. w* is the least-squares optimum (normal equations
 * in float64): the empirical loss's gradient is zero there, so the estimator has no first-order bias from w* being
 * off the empirical minimum (as a true parameter would be: a d / (2 ln n) bias, 14% at n = 1000).
 */
function linearRegression(d: number, n: number, seed: number): Problem {
  const rng = new Rng(seed);
  const x = normals(rng, n * d);
  const wTrue = normals(rng, d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] * wTrue[j];
    y[i] = s + 0.5 * rng.normal();
  }
  // [X^T X | X^T y], solved by Gauss-Jordan with partial pivoting.
  const a = Array.from({ length: d }, () => new Float64Array(d + 1));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      for (let k = 0; k < d; k++) a[j][k] += x[i * d + j] * x[i * d + k];
      a[j][d] += x[i * d + j] * y[i];
    }
  }
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let k = c; k <= d; k++) a[r][k] -= f * a[c][k];
    }
  }
  const wStar = Float32Array.from({ length: d }, (_, j) => a[j][d] / a[j][j]);
  const xt = tf.tensor2d(x, [n, d]);
  const yt = tf.tensor1d(y);
  const loss: LlcLossFn = (p, batch) => {
    const idx = tf.tensor1d(batch, 'int32');
    return tf
      .gather(xt, idx)
      .matMul(p.reshape([d, 1]))
      .reshape([-1])
      .sub(tf.gather(yt, idx))
      .square()
      .mean() as tf.Scalar;
  };
  return { loss, wStar, n, dispose: () => tf.dispose([xt, yt]) };
}

/**
 * Two-layer linear network y = W2 W1 x, widths [h1, h2, h3], at a true parameter where W1 (h2 x h1) and W2 (h3 x h2)
 * each have rank `rank` (unit-norm rank-one terms, so the product's singular values are 1): the deepest stratum of
 * the true set, where the local coefficient is Aoyagi's global one (at a point with W2 of full rank the map
 * W1 -> W2 W1 is a submersion and the local coefficient would be the larger regular value). Labels carry no noise,
 * so w* is an exact minimiser of the empirical loss (L_n(w*) = 0) and the empirical loss near it is a positive
 * definite quadratic form in W2 W1 - W2* W1*, with the same coefficient as the population loss: no finite-n bias
 * from w* sitting off the empirical minimum.
 */
function deepLinear(widths: [number, number, number], rank: number, n: number, seed: number): Problem {
  const [h1, h2, h3] = widths;
  const rng = new Rng(seed);
  const w1 = new Float32Array(h2 * h1);
  const w2 = new Float32Array(h3 * h2);
  for (let k = 0; k < rank; k++) {
    const v = normals(rng, h1);
    const u = normals(rng, h3);
    const nv = Math.hypot(...v);
    const nu = Math.hypot(...u);
    for (let j = 0; j < h1; j++) w1[k * h1 + j] = v[j] / nv;
    for (let i = 0; i < h3; i++) w2[i * h2 + k] = u[i] / nu;
  }
  const xt = tf.tensor2d(normals(rng, n * h1), [n, h1]);
  const yt = tf.tidy(() => xt.matMul(tf.tensor2d(w1, [h2, h1]), false, true).matMul(tf.tensor2d(w2, [h3, h2]), false, true));
  const loss: LlcLossFn = (p, batch) => {
    const idx = tf.tensor1d(batch, 'int32');
    const a = p.slice(0, h2 * h1).reshape([h2, h1]);
    const b = p.slice(h2 * h1).reshape([h3, h2]);
    // sum over outputs, mean over rows: the Gaussian log-likelihood up to a constant factor (which leaves lambda as is)
    return tf.gather(xt, idx).matMul(a, false, true).matMul(b, false, true).sub(tf.gather(yt, idx)).square().sum(1).mean() as tf.Scalar;
  };
  return { loss, wStar: new Float32Array([...w1, ...w2]), n, dispose: () => tf.dispose([xt, yt]) };
}

/** Aoyagi & Watanabe (2005), reduced rank regression: input m, hidden h, output nOut, true rank r (independent of
 *  Aoyagi 2024's general formula, which must reduce to it for two layers). */
function aoyagiWatanabe2005(m: number, h: number, nOut: number, r: number): number {
  if (nOut + r <= m + h && m + r <= nOut + h && h + r <= m + nOut) {
    const base = 2 * (h + r) * (m + nOut) - (m - nOut) ** 2 - (h + r) ** 2;
    return ((m + h + nOut + r) % 2 === 0 ? base : base + 1) / 8;
  }
  if (m + h < nOut + r) return (h * m + nOut * r - h * r) / 2;
  if (nOut + h < m + r) return (h * nOut + m * r - h * r) / 2;
  return (m * nOut) / 2;
}

// Shared SGLD settings for the known-answer checks, n = 1000 rows, so n*beta = 1000 / ln 1000 = 144.8:
// - stepSize 5e-4: the stiffest direction has curvature a = n*beta * 2 (MSE Hessian 2 X^T X / n ~ 2 I) = 290; Euler
//   SGLD on a quadratic inflates the sampled variance by 1 / (1 - eps a / 4) = +3.8%, and the loss decorrelates in
//   ~1 / (eps a) = 7 steps, so 500 draws are ~35 independent ones per chain. 1e-3 mixes faster but biases +8%.
// - batchSize 200: minibatch gradient noise adds eps n*beta^2 Var(g) / (4 m) ~ +2% to the variance at this size; the
//   draws span whole epochs (5 batches each), so the recorded minibatch losses average to full-data losses.
// - gamma 1: localisation bias is a factor n*beta a / (n*beta a + gamma) per direction, < 0.5% here; it only has to
//   keep the deep linear network's flat directions (its GL(h2) symmetry) from wandering off.
// - 4 chains: their spread is the estimate's error bar (reported as llcStd).
const base: Omit<LlcOptions, 'seed'> = { chains: 4, draws: 500, burnIn: 100, stepSize: 5e-4, gamma: 1, batchSize: 200 };

describe('analysis/llc', function () {
  this.timeout(120000);
  before(async () => {
    await initBackend('wasm');
  });

  it('deepLinearRlct reduces to Aoyagi & Watanabe (2005) for every two-layer network up to width 6, and to d/2 for one layer', () => {
    let checked = 0;
    for (let m = 1; m <= 6; m++)
      for (let h = 1; h <= 6; h++)
        for (let o = 1; o <= 6; o++) {
          for (let r = 0; r <= Math.min(m, h, o); r++) {
            const got = deepLinearRlct([m, h, o], r);
            const want = aoyagiWatanabe2005(m, h, o, r);
            assert.ok(Math.abs(got - want) < 1e-12, `[${m}, ${h}, ${o}] rank ${r}: ${got} vs ${want}`);
            checked++;
          }
        }
    assert.equal(checked, 657);
    // one linear layer is regular whatever the rank; y = w2 w1 x has lambda 1/2 at w1 w2 != 0 and at 0 (x^2 y^2)
    assert.equal(deepLinearRlct([4, 3], 2), 6);
    assert.equal(deepLinearRlct([1, 1, 1], 1), 0.5);
    assert.equal(deepLinearRlct([1, 1, 1], 0), 0.5);
    // a deeper network is below its regular value: 3 layers of 3x3 at rank 1 vs d/2 = 13.5
    assert.ok(deepLinearRlct([3, 3, 3, 3], 1) < 13.5);
    assert.throws(() => deepLinearRlct([3, 3], 4), /rank must be an integer in \[0, min\(widths\)\]/);
    assert.throws(() => deepLinearRlct([3], 1), /widths needs the input/);
    assert.throws(() => deepLinearRlct([3, 0, 2], 0), /every width must be a positive integer/);
  });

  it('regular model: linear regression with d = 4 and d = 10 gives d/2 within 20%, and grows with d', () => {
    const estimates: number[] = [];
    for (const d of [4, 10]) {
      const p = linearRegression(d, 1000, 1);
      const before = tf.memory().numTensors;
      const r = estimateLlc(p.loss, p.wStar, p.n, { ...base, seed: 1 });
      assert.equal(tf.memory().numTensors, before, 'estimateLlc leaves no tensors behind');
      p.dispose();
      // measured 2.07 (d = 4) and 5.30 (d = 10): ~+5%, the step-size and minibatch biases above
      assert.ok(Math.abs(r.llc - d / 2) < 0.2 * (d / 2), `d = ${d}: LLC ${r.llc.toFixed(3)} vs ${d / 2}`);
      // L_n(w*) is the noise variance 0.25 less what least squares fits of it (d / n of it)
      assert.ok(Math.abs(r.lossAtOptimum - 0.25) < 0.03, `L_n(w*) = ${r.lossAtOptimum}`);
      assert.equal(r.llcPerChain.length, 4);
      assert.equal(r.lossTraces.length, 4);
      for (const t of r.lossTraces) assert.equal(t.length, base.burnIn + base.draws);
      // the estimate is n*beta times the chains' mean draw loss above L_n(w*), draws after burn-in only
      const chain0 = r.lossTraces[0].slice(base.burnIn).reduce((a, b) => a + b, 0) / base.draws;
      assert.ok(Math.abs(r.llcPerChain[0] - r.hyperparameters.nBeta * (chain0 - r.lossAtOptimum)) < 1e-9);
      assert.ok(Math.abs(r.hyperparameters.nBeta - 1000 / Math.log(1000)) < 1e-9, 'default n*beta = n / ln n');
      estimates.push(r.llc);
    }
    assert.ok(estimates[1] > estimates[0] + 2, `grows with d: ${estimates.join(' -> ')}`);
  });

  it('off a minimum (a run stopped on a slope): the plain estimate walks downhill; without the linear term it is d/2 again', () => {
    const d = 4;
    const p = linearRegression(d, 1000, 1);
    // w* moved 0.15 off the least-squares optimum along every axis: n*beta (L(w*) - L(w_opt)) = 145 * 2 * 0.09 = 26
    const off = Float32Array.from(p.wStar, (w) => w + 0.15);
    const plain = estimateLlc(p.loss, off, p.n, { ...base, seed: 1 });
    const linearRemoved = estimateLlc(p.loss, off, p.n, { ...base, seed: 1, removeLinearTerm: true });
    p.dispose();
    assert.equal(linearRemoved.hyperparameters.removeLinearTerm, true);
    assert.equal(plain.hyperparameters.removeLinearTerm, false);
    // the loss around w* less its linear term is the same quadratic as around the optimum: lambda = d/2
    assert.ok(Math.abs(linearRemoved.llc - d / 2) < 0.2 * (d / 2), `linear term removed: ${linearRemoved.llc.toFixed(3)} vs ${d / 2}`);
    assert.ok(plain.llc < 0, `plain estimator off the minimum goes negative: ${plain.llc.toFixed(3)}`);
  });

  it("singular model: a deep linear network [3, 3, 3] at rank 1 gives Aoyagi's 4 within 20%, far below d/2 = 9", () => {
    const truth = deepLinearRlct([3, 3, 3], 1);
    assert.equal(truth, 4);
    const p = deepLinear([3, 3, 3], 1, 1000, 1);
    // burn-in 400 (not 100): the directions where the loss is quartic (both layers' unused rank) fill in slowly,
    // spread^2 / eps = (1 / n*beta)^(1/2) / eps ~ 170 steps to diffuse across; with 100 the estimates ran 0-11% low.
    const r = estimateLlc(p.loss, p.wStar, p.n, { ...base, burnIn: 400, draws: 600, seed: 2 });
    p.dispose();
    assert.equal(r.lossAtOptimum, 0, 'noise-free labels: w* is an exact minimiser');
    // measured 3.99 (seed 2; seeds 2-3 x data seeds 1-2: 3.79-4.39)
    assert.ok(Math.abs(r.llc - truth) < 0.2 * truth, `LLC ${r.llc.toFixed(3)} vs Aoyagi ${truth}`);
    assert.ok(r.llc < 0.6 * 9, `clearly below the regular d/2 = 9: ${r.llc.toFixed(3)}`);
  });

  it('is deterministic: the same seed gives the same estimate bit for bit, another seed a different one', () => {
    const p = linearRegression(3, 200, 7);
    const opts: LlcOptions = { chains: 2, draws: 40, burnIn: 10, stepSize: 1e-3, gamma: 1, batchSize: 50, seed: 5 };
    const a = estimateLlc(p.loss, p.wStar, p.n, opts);
    const b = estimateLlc(p.loss, p.wStar, p.n, opts);
    const c = estimateLlc(p.loss, p.wStar, p.n, { ...opts, seed: 6 });
    p.dispose();
    assert.equal(a.llc, b.llc);
    assert.deepEqual(a.lossTraces, b.lossTraces);
    assert.notEqual(a.llc, c.llc);
    // chains differ from each other too (each has its own noise and minibatch stream)
    assert.notDeepEqual(a.lossTraces[0], a.lossTraces[1]);
  });

  it('chainDiagnostics: a settled chain, a rising one and one below L_n(w*)', () => {
    const burn = [9, 9, 9];
    const settled = chainDiagnostics([...burn, 1.2, 1.3, 1.25, 1.25], 3, 1);
    assert.ok(Math.abs(settled.firstHalf - 0.25) < 1e-12 && Math.abs(settled.secondHalf - 0.25) < 1e-12);
    assert.equal(settled.stillRising, false);
    assert.equal(settled.belowOptimum, false);
    const rising = chainDiagnostics([...burn, 1.1, 1.1, 1.3, 1.3], 3, 1);
    assert.equal(rising.stillRising, true, 'second half 0.3 vs first 0.1');
    const below = chainDiagnostics([...burn, 1.0, 0.9, 0.8, 0.7], 3, 1);
    assert.equal(below.belowOptimum, true);
    assert.throws(() => chainDiagnostics([1, 2, 3], 2, 0), /1 draws after a burn-in of 2/);
  });

  it('rejects bad options, naming the option', () => {
    const p = linearRegression(2, 20, 1);
    const ok: LlcOptions = { chains: 1, draws: 2, burnIn: 0, stepSize: 1e-3, gamma: 1, batchSize: 5, seed: 0 };
    const cases: [Partial<LlcOptions>, RegExp][] = [
      [{ chains: 0 }, /chains = 0 must be a positive integer/],
      [{ draws: 1.5 }, /draws = 1.5 must be a positive integer/],
      [{ burnIn: -1 }, /burnIn = -1 must be an integer >= 0/],
      [{ stepSize: 0 }, /stepSize = 0 must be a finite number > 0/],
      [{ gamma: NaN }, /gamma = NaN must be a finite number >= 0/],
      [{ nBeta: -3 }, /nBeta = -3 must be a finite number > 0/],
      [{ batchSize: 21 }, /batchSize = 21 must be <= n \(20\)/],
      [{ seed: Infinity }, /seed = Infinity must be a finite number/],
    ];
    try {
      for (const [bad, re] of cases) assert.throws(() => estimateLlc(p.loss, p.wStar, p.n, { ...ok, ...bad }), re);
      assert.throws(() => estimateLlc(p.loss, p.wStar, 1, ok), /n = 1 must be an integer >= 2/);
      // a step far past stability (eps a / 4 >> 1) diverges: the error says which option to change
      assert.throws(() => estimateLlc(p.loss, p.wStar, p.n, { ...ok, draws: 200, stepSize: 10 }), /stepSize = 10 made chain 0 diverge/);
    } finally {
      p.dispose();
    }
  });
});
