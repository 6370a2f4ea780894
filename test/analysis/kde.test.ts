import { strict as assert } from 'assert';
import { kde, kdeBandwidth } from '../../lib/analysis/kde';

function normalPdf(x: number, mu: number, s: number): number {
  return Math.exp(-0.5 * ((x - mu) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
}

describe('analysis/kde', () => {
  const samples = [1, 2, 4, 7, 11];

  it("Scott's and Silverman's bandwidths match their formulas and scipy.stats.gaussian_kde", () => {
    // mean 5, SS = 16 + 9 + 1 + 4 + 36 = 66, sample sd = sqrt(66 / 4)
    const sd = Math.sqrt(66 / 4);
    assert.ok(Math.abs(kdeBandwidth(samples) - sd * 5 ** -0.2) < 1e-12);
    assert.ok(Math.abs(kdeBandwidth(samples, 'silverman') - sd * (5 * 0.75) ** -0.2) < 1e-12);
    // scipy 1.10.1: sqrt(gaussian_kde(samples).covariance) = 2.944068911308367 (scott), 3.1184279805484434 (silverman)
    assert.ok(Math.abs(kdeBandwidth(samples) - 2.944068911308367) < 1e-12);
    assert.ok(Math.abs(kdeBandwidth(samples, 'silverman') - 3.1184279805484434) < 1e-12);
  });

  it('matches scipy.stats.gaussian_kde values (default Scott, and Silverman)', () => {
    const xs = [0, 3, 5.5, 12];
    // scipy 1.10.1: gaussian_kde([1,2,4,7,11])([0,3,5.5,12]) and bw_method='silverman'
    const scott = [0.059497395432396814, 0.08412520957683038, 0.07413389283848182, 0.03277483052387879];
    const silverman = [0.05848342821759344, 0.08162909584831136, 0.07364557859132059, 0.032532451645128135];
    kde(samples, xs).forEach((v, i) => assert.ok(Math.abs(v - scott[i]) < 1e-12, `scott at ${xs[i]}: ${v}`));
    kde(samples, xs, 'silverman').forEach((v, i) => assert.ok(Math.abs(v - silverman[i]) < 1e-12, `silverman at ${xs[i]}`));
  });

  it('a single sample with bandwidth h is the normal pdf N(sample, h^2)', () => {
    const xs = [-3, 0, 1.2, 2, 5];
    kde([1.2], xs, 0.7).forEach((v, i) => assert.ok(Math.abs(v - normalPdf(xs[i], 1.2, 0.7)) < 1e-15));
  });

  it('integrates to 1 (trapezoid on a wide grid)', () => {
    const data = [30.1, 35.5, 41.2, 43.3, 44.0, 47.9, 50.7, 52.2];
    const lo = 0,
      hi = 100,
      m = 4001,
      dx = (hi - lo) / (m - 1);
    const xs = Array.from({ length: m }, (_, i) => lo + i * dx);
    const ys = kde(data, xs);
    let area = 0;
    for (let i = 1; i < m; i++) area += ((ys[i] + ys[i - 1]) / 2) * dx;
    assert.ok(Math.abs(area - 1) < 1e-6, `area ${area}`);
    // and it is the mean of per-sample normals
    const h = kdeBandwidth(data);
    const expect50 = data.reduce((s, c) => s + normalPdf(50, c, h), 0) / data.length;
    assert.ok(Math.abs(kde(data, [50])[0] - expect50) < 1e-15);
  });

  it('rejects inputs without a defined bandwidth', () => {
    assert.throws(() => kde([], [0]), /samples\.length = 0/);
    assert.throws(() => kde([3], [0]), /samples\.length = 1 .*explicit bandwidth/);
    assert.throws(() => kde([100, 100, 100], [0]), /zero spread/);
    assert.ok(Math.abs(kde([100, 100, 100], [100], 1)[0] - normalPdf(100, 100, 1)) < 1e-15, 'explicit bandwidth works for constant samples');
    assert.throws(() => kde([1, 2], [0], 0), /bandwidth = 0/);
    assert.throws(() => kde([1, NaN], [0]), /samples\[1\] = NaN/);
  });
});
