// Notebook 11 / README: each claim's rule decides "supported" / "not supported" on synthetic runs made to pass or
// fail it, and says "not testable at this scale" (with the reason) while runs are missing or unusable.
import { strict as assert } from 'assert';
import { checkClaims, claimRows, claimsMarkdown, claimSubjects, notReadyReason, PAPER_CLAIMS, verdictCounts, type ClaimCheck } from '../../lib/report/claims';
import type { Study, StudyRun } from '../../lib/report/study';
import { allRuns, fakeProfile, fakeStudy, type FakeRunOptions } from './fixtures';

function only(checks: ClaimCheck[], id: string, regime?: RegExp): ClaimCheck {
  const found = checks.filter((c) => c.id === id && (!regime || regime.test(c.regime)));
  assert.equal(found.length, 1, `${id}: ${found.length} checks (${checks.map((c) => `${c.id}/${c.regime}`).join('; ')})`);
  return found[0];
}

/** An MLP study at widths 1x and 5x, three seed pairs per width; `opts` shapes each run. */
function mlpStudy(opts: (d: { width: number; init: string; initSeed: number }) => FakeRunOptions, widths = [1, 5]): Study {
  const profile = fakeProfile([{ label: 'mlp', arch: 'mlp', widths, inits: ['glorot', 'he'], initSeeds: 3 }]);
  return fakeStudy(profile, allRuns(profile, opts));
}

describe("report: the paper's claims and their verdicts (11)", () => {
  it('every claim has a unique id, a section and a rule that names itself when applied', () => {
    assert.equal(new Set(PAPER_CLAIMS.map((c) => c.id)).size, PAPER_CLAIMS.length);
    for (const c of PAPER_CLAIMS) assert.ok(c.section && c.claim.length > 20, c.id);
  });

  it('with nothing computed, every claim on every regime waits, and none throws', () => {
    const profile = fakeProfile([
      { label: 'mlp', arch: 'mlp', widths: [0.1, 1], inits: ['glorot', 'he'] },
      { label: 'conv2-adam', arch: 'conv2', optimizer: 'adam', widths: [0.1, 1], inits: ['glorot', 'he'] },
      { label: 'conv2-adagrad', arch: 'conv2', optimizer: 'adagrad', widths: [0.1, 1], inits: ['glorot', 'he'] },
      { label: 'resnet', arch: 'resnet', optimizer: 'sgd', widths: [0.1, 1], inits: ['glorot', 'he'] },
    ]);
    const checks = checkClaims(fakeStudy(profile, []));
    // Every claim appears, each on the regimes it names (four for the general ones).
    assert.deepEqual(
      [...new Set(checks.map((c) => c.id))],
      PAPER_CLAIMS.map((c) => c.id),
    );
    assert.equal(checks.filter((c) => c.id === 'he-denser').length, 4);
    for (const c of checks) {
      assert.equal(c.verdict, 'not testable at this scale', c.id);
      assert.match(c.why, /0 of the profile's 4 runs are computed/, `${c.id}: ${c.why}`);
    }
  });

  it('Table 2: supported when the observed density stays far from the rescaled 1x core, not when it follows it', () => {
    // 1x effective density 58/60/56% -> the null hypothesis at 5x is ~8%; observed 40% rejects it.
    const far = checkClaims(mlpStudy((d) => ({ dropAt: d.width === 1 ? 21 - d.initSeed + (d.initSeed === 2 ? 2 : 0) : 30 + d.initSeed })));
    const t = only(far, 'null-hypothesis-t-tests');
    assert.equal(t.verdict, 'supported', t.why);
    assert.match(t.ours, /^1x 5\d\.\d%; 5x 3\d\.\d% vs null [6-9]\.\d% \(p = /);
    assert.match(t.paper, /every t-test p < 0.0001; 1x observed 43.3%/);
    assert.equal(only(far, 'core-size-anova').verdict, 'supported');
    // Observed 5x density equal to the rescaled 1x core (8%): the core did not grow, the null hypothesis holds.
    const same = checkClaims(mlpStudy((d) => ({ dropAt: d.width === 1 ? [21, 20, 22][d.initSeed] : 46 })));
    const u = only(same, 'null-hypothesis-t-tests');
    assert.equal(u.verdict, 'not supported', `${u.ours} / ${u.why}`);
    assert.match(u.why, /not at 5x/);
  });

  it('not testable while runs are missing, naming how many of which width', () => {
    const profile = fakeProfile([{ label: 'mlp', arch: 'mlp', widths: [0.1, 1], initSeeds: 3 }]);
    const runs = allRuns(profile).filter((r) => !(r.row.width === 1 && r.row.initSeed > 0));
    const checks = checkClaims(fakeStudy(profile, runs));
    for (const c of checks) {
      assert.equal(c.verdict, 'not testable at this scale', c.id);
      assert.match(c.why, /4 of the profile's 6 runs are computed \(1x: 1 of 3\); the verdict waits for the rest|trains only glorot/, c.id);
    }
    // The numbers so far are still shown.
    assert.match(only(checks, 'large-models-prunable').ours, /1x: 50\.0% prunable \(n=1\)/);
  });

  it('not testable when a width has fewer than two analysable runs (near chance: left out)', () => {
    const profile = fakeProfile([{ label: 'mlp', arch: 'mlp', widths: [0.1, 1], initSeeds: 2 }]);
    const study = fakeStudy(
      profile,
      allRuns(profile, (d) => ({ accuracy: d.width === 0.1 ? 0.11 : 0.9 })),
    );
    const [s] = claimSubjects(study);
    assert.deepEqual(
      s.coverage.map((c) => [c.width, c.planned, c.finished, c.analysable]),
      [
        [0.1, 2, 2, 0],
        [1, 2, 2, 2],
      ],
    );
    assert.match(notReadyReason(s) ?? '', /^0\.1x has 0 analysable run\(s\) of 2 \(near chance or never degraded: left out\); the rule needs 2 per width$/);
    assert.equal(notReadyReason(s, { minPerWidth: 0 }), null);
    assert.match(notReadyReason(s, { widths: [5] }) ?? '', /no 5x MLP \(SGD, MNIST\) runs/);
  });

  it('Glorot vs He: He denser and faster is supported, the reverse is not; one scheme only is not testable', () => {
    const heDenser = checkClaims(
      mlpStudy((d) => ({ dropAt: 20 + d.initSeed - (d.init === 'he' ? 2 : 0), epochs: d.init === 'he' ? 2 + d.initSeed : 3 + d.initSeed })),
    );
    assert.equal(only(heDenser, 'he-denser').verdict, 'supported');
    assert.match(only(heDenser, 'he-denser').ours, /He - Glorot \+4\.0 points over 6 seed pairs/);
    assert.equal(only(heDenser, 'he-trains-faster').verdict, 'supported');
    const heSparser = checkClaims(
      mlpStudy((d) => ({ dropAt: 20 + d.initSeed + (d.init === 'he' ? 2 : 0), epochs: d.init === 'he' ? 3 + d.initSeed : 2 + d.initSeed })),
    );
    assert.equal(only(heSparser, 'he-denser').verdict, 'not supported');
    assert.equal(only(heSparser, 'he-trains-faster').verdict, 'not supported');
    // The gap: needs three widths; growing with width -> supported, shrinking -> not.
    assert.equal(only(heDenser, 'he-gap-grows').verdict, 'not testable at this scale');
    assert.match(only(heDenser, 'he-gap-grows').why, /pairs at 2 width\(s\); a trend needs 3/);
    const gap = (sign: number) =>
      only(checkClaims(mlpStudy((d) => ({ dropAt: 25 + d.initSeed - (d.init === 'he' ? (sign > 0 ? d.width : 6 - d.width) : 0) }), [1, 2, 5])), 'he-gap-grows');
    assert.equal(gap(1).verdict, 'supported', gap(1).ours);
    assert.equal(gap(-1).verdict, 'not supported', gap(-1).ours);
    assert.match(gap(-1).why, /here: decreasing/);
    const glorotOnly = fakeProfile([{ label: 'mlp', arch: 'mlp', widths: [0.1, 1], initSeeds: 2 }]);
    const c = only(checkClaims(fakeStudy(glorotOnly, allRuns(glorotOnly))), 'he-denser');
    assert.equal(c.verdict, 'not testable at this scale');
    assert.match(c.why, /trains only glorot/);
  });

  it("Sec 4.3: Adagrad curves overlap more when its widths start alike and Adam's do not; swapped, not supported", () => {
    const profile = fakeProfile([
      { label: 'conv2-adam', arch: 'conv2', optimizer: 'adam', widths: [0.1, 1], initSeeds: 2 },
      { label: 'conv2-adagrad', arch: 'conv2', optimizer: 'adagrad', widths: [0.1, 1], initSeeds: 2 },
    ]);
    /** Accuracy start - slope * k at pruning level k (no floor), so only the start and the slope differ between curves. */
    const linear = (r: StudyRun, start: number, slope: number) => {
      r.record.trajectory = (r.record.trajectory ?? []).map((p, k) => ({ ...p, accuracy: start - slope * k }));
    };
    const study = (spread: string) => {
      const runs = allRuns(profile, (d) => ({ accuracy: d.group === spread ? (d.width === 1 ? 0.7 : 0.5) : 0.6, dropAt: 20 + d.initSeed }));
      for (const r of runs) {
        r.record.training.validationLoss = r.row.group === spread ? (r.row.width === 1 ? 0.9 : 1.3) : 1.1;
        linear(r, r.row.group === spread ? (r.row.width === 1 ? 0.7 : 0.5) : 0.6, 0.01);
      }
      return fakeStudy(profile, runs);
    };
    const ok = checkClaims(study('conv2-adam'));
    const overlap = only(ok, 'adagrad-curves-overlap');
    assert.equal(overlap.regime, 'Conv-2 (Adagrad, CIFAR-10) vs Conv-2 (Adam, CIFAR-10)');
    assert.equal(overlap.verdict, 'supported', overlap.ours);
    assert.match(overlap.ours, /Adagrad 0\.0 vs Adam \d+\.\d accuracy points/);
    assert.equal(only(ok, 'adagrad-similar-start').verdict, 'supported');
    // Adam's widths differ only in where they start: measured from there, its curves overlap too, so the start explains it.
    const explains = only(ok, 'adagrad-start-explains');
    assert.equal(explains.verdict, 'supported', explains.ours);
    assert.match(explains.ours, /Adam - Adagrad curve spread: \+\d+\.\d points as trained, [+-]0\.0 measured from each model's unpruned accuracy/);
    assert.match(explains.why, /^rule: measured from each model's own unpruned accuracy/);
    // Adam's widths start apart AND fall at different levels: the difference survives the alignment.
    const falls = study('conv2-adam');
    for (const r of falls.runs) if (r.row.group === 'conv2-adam') linear(r, r.row.width === 1 ? 0.65 : 0.6, r.row.width === 1 ? 0 : 0.012);
    assert.equal(only(checkClaims(falls), 'adagrad-start-explains').verdict, 'not supported');
    const swapped = checkClaims(study('conv2-adagrad'));
    assert.equal(only(swapped, 'adagrad-curves-overlap').verdict, 'not supported');
    assert.equal(only(swapped, 'adagrad-similar-start').verdict, 'not supported');
    assert.match(only(swapped, 'adagrad-start-explains').why, /nothing for the start to explain/);
    assert.match(only(swapped, 'adagrad-curves-overlap').why, /^rule: the Adagrad curve spread .* below the Adam one/);
    // Without the Adam regime there is nothing to compare with.
    const alone = fakeProfile([{ label: 'conv2-adagrad', arch: 'conv2', optimizer: 'adagrad', widths: [0.1, 1], initSeeds: 2 }]);
    const a = only(checkClaims(fakeStudy(alone, allRuns(alone))), 'adagrad-curves-overlap');
    assert.equal(a.verdict, 'not testable at this scale');
    assert.match(a.why, /no conv2-adam runs to compare with/);
  });

  it("Table 3: supported when every cell is on the paper's side of chance, not when one is off", () => {
    // The paper: above chance at 0.1x (25.5/22.1/34.1), fc1 and fc2 below at 1x (7.2/9.3), proj above (16.7).
    const overlaps = (fc1AtOne: number) => (d: { width: number }) => ({
      overlaps: d.width === 1 ? { fc1: fc1AtOne, fc2: 8, proj: 20 } : { fc1: 30, fc2: 25, proj: 30 },
    });
    const profile = fakeProfile([{ label: 'mlp', arch: 'mlp', widths: [0.1, 1], initSeeds: 2 }]);
    const good = only(checkClaims(fakeStudy(profile, allRuns(profile, overlaps(5)))), 'init-overlap-side');
    assert.equal(good.verdict, 'supported', good.why);
    assert.match(good.ours, /in 6 of 6 \(width, layer\) cells \(0\.1x, 1x\)/);
    const off = only(checkClaims(fakeStudy(profile, allRuns(profile, overlaps(30)))), 'init-overlap-side');
    assert.equal(off.verdict, 'not supported');
    assert.match(off.why, /not in 1x fc1 \(30\.0% vs 7\.2%\)$/);
  });

  it('Figure 8: width structure in the correctness vectors rejects "no pattern" for Conv-2/Adam; none supports it', () => {
    const profile = fakeProfile([{ label: 'conv2-adam', arch: 'conv2', optimizer: 'adam', widths: [0.1, 1], inits: ['glorot', 'he'], initSeeds: 3 }]);
    const bits = (seed: number, n: number) => Array.from({ length: n }, (_, i) => ((i * 7 + seed * 13) % 5 < 2 ? 0 : 1));
    // Structured: every model of a width has its width's vector (with a seed-specific flip).
    const structured = allRuns(profile, (d) => {
      const v = bits(d.width === 1 ? 1 : 2, 60);
      v[d.initSeed + (d.init === 'he' ? 3 : 0)] ^= 1;
      return { correctness: v };
    });
    const s = only(checkClaims(fakeStudy(profile, structured), { permutations: 400 }), 'functions-by-width');
    assert.equal(s.verdict, 'not supported', s.ours);
    assert.match(s.ours, /12 models, data seed 0; permutation p = /);
    // Unstructured: the vector depends on the seed, not the width.
    const mixed = allRuns(profile, (d) => ({ correctness: bits(d.initSeed + (d.init === 'he' ? 3 : 0), 60) }));
    assert.equal(only(checkClaims(fakeStudy(profile, mixed), { permutations: 400 }), 'functions-by-width').verdict, 'supported');
  });

  it('tables: the claim text once per claim, a count per verdict, and Markdown with escaped pipes', () => {
    const checks = checkClaims(mlpStudy((d) => ({ dropAt: 20 + d.initSeed })));
    const rows = claimRows(checks);
    assert.equal(rows.length, checks.length);
    assert.equal(rows.filter((r) => r.claim !== '').length, new Set(checks.map((c) => c.id)).size);
    assert.match(verdictCounts(checks), /^\d+ supported, \d+ not supported, \d+ not testable at this scale$/);
    const md = claimsMarkdown([{ ...checks[0], ours: 'a | b' }]);
    assert.match(md, /^\| Sec \| Claim \| Regime \| Paper \| Ours \| Verdict \| Why \|\n\|---/);
    assert.match(md, /a \\\| b/);
    const short = claimsMarkdown(checks, { short: true }).split('\n');
    assert.equal(short[0], '| Sec | Claim | Regime | Verdict | Ours | Why |');
    assert.equal(short.length, checks.length + 2);
    assert.match(short[2], /^\| 4\.1 \| 0\.1x MLPs ~30% prunable \| MLP \(SGD, MNIST\) \| /);
  });
});
