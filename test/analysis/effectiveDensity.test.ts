import { strict as assert } from 'assert';
import { effectiveDensity, effectiveDensityDetail, effectiveDensityCurve, DEFAULT_CURVE_THRESHOLDS, TrajectoryLike } from '../../lib/analysis/effectiveDensity';

/** Trajectory from parallel arrays; densities 100, 98, 96, ... like the paper's 2% steps. */
function traj(accuracy: number[], loss?: number[]): TrajectoryLike[] {
  return accuracy.map((a, i) => ({ density: 100 - 2 * i, accuracy: a, loss: loss ? loss[i] : 0.3 }));
}

describe('analysis/effectiveDensity', () => {
  it('returns the density of the FIRST level whose accuracy dropped more than 5 points', () => {
    // drops in points: 0, 1, 4.9, 5.1 (first beyond), 3 (recovers: ignored), 20
    const t = traj([0.95, 0.94, 0.901, 0.899, 0.92, 0.75]);
    assert.equal(effectiveDensity(t), 94);
    assert.deepEqual(effectiveDensityDetail(t), { density: 94, level: 3, degraded: true });
  });

  it('does not count a drop EXACTLY equal to the threshold (despite float rounding)', () => {
    // (0.90 - 0.85) * 100 = 5.000000000000004 in floating point: still "not beyond" 5 points.
    assert.ok((0.9 - 0.85) * 100 > 5, 'precondition: the float drop exceeds 5');
    const t = traj([0.9, 0.85, 0.85, 0.8498]);
    assert.deepEqual(effectiveDensityDetail(t), { density: 94, level: 3, degraded: true });
    // Same at a 1-point threshold on a 5000-image resolution (0.02 points): 0.9500 -> 0.9400 is exactly 1,
    // 0.9398 (one image fewer) is beyond.
    assert.equal(effectiveDensity(traj([0.95, 0.94, 0.9398]), { threshold: 1 }), 96);
  });

  it('without any degradation returns the last level (0%) and degraded=false', () => {
    const t = traj([0.9, 0.9, 0.9]).concat([{ density: 0, accuracy: 0.88, loss: 0.3 }]);
    assert.deepEqual(effectiveDensityDetail(t), { density: 0, level: 3, degraded: false });
    assert.equal(effectiveDensity(t), 0);
    // a single-point trajectory degrades nowhere either
    assert.deepEqual(effectiveDensityDetail([{ density: 100, accuracy: 0.5, loss: 1 }]), { density: 100, level: 0, degraded: false });
  });

  it('relative mode measures the drop in percent of the unpruned accuracy', () => {
    // base 0.60: 5% relative = 3 points. 0.58 is 3.33% down, 0.569 is 5.17% down (beyond), though only 3.1 points.
    const t = traj([0.6, 0.58, 0.569, 0.5]);
    assert.equal(effectiveDensity(t, { mode: 'relative' }), 96);
    assert.equal(effectiveDensity(t, { mode: 'points' }), 94); // 10 points at level 3
    // exactly 5% relative (0.60 -> 0.57) is not beyond
    assert.equal(effectiveDensity(traj([0.6, 0.57, 0.5]), { mode: 'relative' }), 96);
  });

  it('loss metric: points are absolute loss units, relative is percent of the unpruned loss', () => {
    const loss = [0.2, 0.25, 0.3, 0.35, 2.0];
    const t = traj([0.95, 0.95, 0.95, 0.95, 0.95], loss);
    // rises: 0.05, 0.1, 0.15, 1.8
    assert.equal(effectiveDensity(t, { metric: 'loss', threshold: 0.1, mode: 'points' }), 94); // 0.1 exactly is not beyond
    assert.equal(effectiveDensity(t, { metric: 'loss', threshold: 0.12, mode: 'points' }), 94);
    assert.equal(effectiveDensity(t, { metric: 'loss', threshold: 0.04, mode: 'points' }), 98);
    // relative: 25%, 50%, 75%, 900%
    assert.equal(effectiveDensity(t, { metric: 'loss', threshold: 25, mode: 'relative' }), 96);
    assert.equal(effectiveDensity(t, { metric: 'loss', threshold: 80, mode: 'relative' }), 92);
    // accuracy stays flat, so the accuracy metric finds no degradation
    assert.deepEqual(effectiveDensityDetail(t), { density: 92, level: 4, degraded: false });
  });

  it('counts a non-finite metric at a pruned level as degraded', () => {
    const t = traj([0.9, 0.9, 0.9], [0.3, NaN, 0.3]);
    assert.equal(effectiveDensity(t, { metric: 'loss', threshold: 1 }), 98);
    const u = traj([0.9, NaN, 0.9]);
    assert.equal(effectiveDensity(u), 98);
  });

  it('validates inputs with errors naming the field and the value', () => {
    assert.throws(() => effectiveDensity([]), /trajectory\.length = 0/);
    assert.throws(() => effectiveDensity([{ density: 98, accuracy: 0.9, loss: 0.3 }]), /trajectory\[0\]\.density = 98/);
    const t = traj([0.9, 0.8]);
    assert.throws(() => effectiveDensity(t, { threshold: 0 }), /threshold = 0 .*> 0 and <= 100/);
    assert.throws(() => effectiveDensity(t, { threshold: -1 }), /threshold = -1/);
    assert.throws(() => effectiveDensity(t, { threshold: 100.5 }), /threshold = 100.5/);
    assert.throws(() => effectiveDensity(t, { threshold: NaN }), /threshold = NaN/);
    assert.equal(effectiveDensity(t, { threshold: 100 }), 98, 'threshold 100 is allowed');
    assert.throws(() => effectiveDensity(traj([90, 80])), /trajectory\[0\]\.accuracy = 90/);
    const rising = [
      { density: 100, accuracy: 0.9, loss: 0.3 },
      { density: 90, accuracy: 0.9, loss: 0.3 },
      { density: 95, accuracy: 0.9, loss: 0.3 },
    ];
    assert.throws(() => effectiveDensity(rising), /trajectory\[2\]\.density = 95 increases/);
    assert.throws(() => effectiveDensity(traj([0.9, 0.8]), { metric: 'acc' as never }), /metric = acc/);
    assert.throws(() => effectiveDensity(traj([0.9, 0.8], [NaN, 1]), { metric: 'loss', threshold: 1 }), /trajectory\[0\]\.loss = NaN/);
    assert.throws(() => effectiveDensity(traj([0, 0])), /trajectory\[0\]\.accuracy = 0/);
  });

  it('undefined option fields fall back to the defaults', () => {
    const t = traj([0.95, 0.94, 0.89]);
    assert.equal(effectiveDensity(t, { threshold: undefined, mode: undefined }), 96);
  });

  it('effectiveDensityCurve sweeps thresholds 1..20 and is non-increasing', () => {
    // accuracy loses 1.5 points per level: 0.95, 0.935, ...
    const t = traj(Array.from({ length: 30 }, (_, i) => 0.95 - 0.015 * i));
    const curve = effectiveDensityCurve(t);
    assert.deepEqual(
      curve.map((c) => c.threshold),
      [...DEFAULT_CURVE_THRESHOLDS],
    );
    assert.deepEqual(
      DEFAULT_CURVE_THRESHOLDS,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    // first level with 1.5 * i > T is i = floor(T / 1.5) + 1 (T a multiple of 1.5 is "exactly", not beyond)
    for (const c of curve) {
      const i = Math.floor(c.threshold / 1.5 + 1e-9) + 1;
      assert.equal(c.level, i, `threshold ${c.threshold}`);
      assert.equal(c.density, 100 - 2 * i);
      assert.equal(c.degraded, true);
    }
    for (let k = 1; k < curve.length; k++) assert.ok(curve[k].density <= curve[k - 1].density);
    const rel = effectiveDensityCurve(t, [5, 10], { mode: 'relative' });
    assert.deepEqual(
      rel.map((c) => c.density),
      [effectiveDensity(t, { threshold: 5, mode: 'relative' }), effectiveDensity(t, { threshold: 10, mode: 'relative' })],
    );
    assert.throws(() => effectiveDensityCurve(t, []), /thresholds\.length = 0/);
  });
});
