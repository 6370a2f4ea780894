import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PROFILES } from '../../lib/experiments/profiles';
import { profilesWith, selectSection } from '../../lib/report/sections';
import { sweepCommand } from '../../lib/experiments/profiles';
import { analysisLabel, backendLabel, commitLabel, loadStudy, missingRunsNote, provenanceHtml, provenanceSummary, sourceLine } from '../../lib/report/study';
import { resolveAnalysisSettings } from '../../lib/store/descriptor';
import { allRuns, fakeProfile, fakeRun, fakeStudy } from './fixtures';

const profile = fakeProfile([
  { label: 'mlp', arch: 'mlp', widths: [0.1, 1], inits: ['glorot', 'he'], initSeeds: 2 },
  { label: 'conv2-adam', arch: 'conv2', optimizer: 'adam', widths: [0.1] },
  { label: 'conv2-adagrad', arch: 'conv2', optimizer: 'adagrad', widths: [0.1] },
]);

describe('report/study and sections', () => {
  it('provenance: counts, seeds, dataset copies, backend and commits of the finished runs; departures of the profile', () => {
    const runs = allRuns(profile).filter((r) => r.row.arch === 'mlp');
    runs[0] = fakeRun({ ...{ width: runs[0].row.width, init: 'glorot', initSeed: 0 }, status: 'diverged' });
    runs[1] = fakeRun({ width: runs[1].row.width, init: runs[1].row.init as 'glorot' | 'he', initSeed: runs[1].row.initSeed, dirty: true });
    const s = provenanceSummary(fakeStudy(profile, runs));
    assert.equal(s.expected, 10);
    assert.equal(s.done, 8);
    assert.equal(s.complete, 7);
    assert.equal(s.diverged, 1);
    assert.equal(s.missing, 2);
    assert.deepEqual(s.initSeeds, [0, 1]);
    assert.deepEqual(s.dataSeeds, [0]);
    assert.equal(s.datasets.length, 1);
    assert.equal(s.datasets[0].name, 'mnist');
    assert.deepEqual(s.datasets[0].trainImages, [55000]);
    assert.deepEqual(s.commits.sort(), ['abcdef0', 'abcdef0 + uncommitted changes']);
    assert.deepEqual(s.backends, ['wasm (@tensorflow/tfjs-backend-wasm 4.22.0, 1 thread, SIMD)']);
    assert.equal(s.command, 'npm run sweep -- --profile fake --arch conv2');
    const html = provenanceHtml(s);
    assert.match(html, /8 of 10 done \(7 complete, 1 diverged\); 2 missing/);
    assert.match(html, /sha256 <code>42fba4f787e0…<\/code>/);
    assert.match(html, /<li>synthetic runs<\/li>/);
    assert.match(html, /npm run sweep -- --profile fake --arch conv2/);
  });

  it('provenance of a study with nothing computed says so and still names the command', () => {
    const s = provenanceSummary(fakeStudy(profile, []));
    assert.equal(s.done, 0);
    assert.equal(s.command, 'npm run sweep -- --profile fake');
    assert.match(provenanceHtml(s), /none yet \(no finished runs\)/);
    assert.match(
      missingRunsNote(fakeStudy(profile, [])) ?? '',
      /10 of 10 runs of profile fake are not computed yet \(mlp: 8, conv2-adam: 1, conv2-adagrad: 1\)/,
    );
    assert.equal(missingRunsNote(fakeStudy(profile, allRuns(profile))), null);
  });

  it('sourceLine names the profile, the dataset copies, runs and seeds, backend and commit of exactly the runs given', () => {
    const study = fakeStudy(profile, allRuns(profile));
    const mlp = study.runs.filter((r) => r.row.arch === 'mlp');
    const line = sourceLine(study, mlp);
    assert.equal(
      line,
      'source: profile fake | MNIST, the four original idx files (sha256 42fba4f7…) | n=8 runs (2 init x 1 data seeds) | wasm 4.22.0 | commit abcdef0',
    );
    assert.match(sourceLine(study), /MNIST.*; CIFAR-10, JPEG-derived copy \(sha256 b7949582…\)/);
    assert.equal(sourceLine(study, []), 'source: profile fake; no finished runs');
    // Runs made with the native convolutions say so (they round differently from XNNPACK's).
    const conv = study.runs.filter((r) => r.row.arch !== 'mlp').slice(0, 1);
    conv[0] = {
      ...conv[0],
      record: {
        ...conv[0].record,
        provenance: { ...conv[0].record.provenance, backend: { ...conv[0].record.provenance.backend, convolutions: 'oneDNN 2.6.3 jit:avx2' } },
      },
    };
    assert.match(sourceLine(study, conv), /\| wasm 4\.22\.0 \+ oneDNN 2\.6\.3 convolutions \|/);
    // And with the native batch normalization; 'tfjs' (or no field: older records) adds nothing.
    const withBn = (batchNorm: string) => [
      { ...conv[0], record: { ...conv[0].record, provenance: { ...conv[0].record.provenance, backend: { ...conv[0].record.provenance.backend, batchNorm } } } },
    ];
    assert.match(sourceLine(study, withBn('native')), /\| wasm 4\.22\.0 \+ oneDNN 2\.6\.3 convolutions \+ native batch norm \|/);
    assert.match(sourceLine(study, withBn('tfjs')), /\| wasm 4\.22\.0 \+ oneDNN 2\.6\.3 convolutions \|/);
    assert.match(backendLabel(withBn('native')[0].record.provenance.backend), /convolutions: oneDNN 2\.6\.3 jit:avx2, batch normalization: native\)$/);
  });

  it('commit and analysis labels', () => {
    assert.equal(commitLabel(null, null), 'unknown (not a git checkout)');
    assert.equal(commitLabel('0123456789', false), '0123456');
    assert.match(analysisLabel(resolveAnalysisSettings({})), /more than 5 accuracy points below the unpruned model; overlap quantile 0.4/);
    assert.match(analysisLabel(resolveAnalysisSettings({ metric: 'loss', mode: 'relative', threshold: 3 })), /3% \(relative\) above the loss of/);
  });

  it('sweepCommand: no filter when every group misses runs, --arch when whole architectures do, else --group; odd paths quoted', () => {
    const study = fakeStudy(profile, []);
    const miss = (pred: (g: string) => boolean) => study.expected.filter((r) => pred(r.group));
    assert.equal(
      sweepCommand(
        'fake',
        profile,
        miss(() => true),
      ),
      'npm run sweep -- --profile fake',
    );
    assert.equal(
      sweepCommand(
        'fake',
        profile,
        miss((g) => g.startsWith('conv2')),
      ),
      'npm run sweep -- --profile fake --arch conv2',
    );
    assert.equal(
      sweepCommand(
        'fake',
        profile,
        miss((g) => g === 'conv2-adagrad'),
      ),
      'npm run sweep -- --profile fake --group conv2-adagrad',
    );
    assert.equal(
      sweepCommand(
        'fake',
        profile,
        miss((g) => g === 'mlp'),
      ),
      'npm run sweep -- --profile fake --arch mlp',
    );
    assert.equal(
      sweepCommand(
        "my dir/it's.json",
        profile,
        miss((g) => g === 'mlp'),
      ),
      `npm run sweep -- --profile 'my dir/it'\\''s.json' --arch mlp`,
    );
  });

  it('selectSection: complete, partial, absent and not-in-profile, each with what to do', () => {
    const mlpOnly = allRuns(profile).filter((r) => r.row.arch === 'mlp');
    const study = fakeStudy(profile, mlpOnly);
    const mlp = selectSection(study, { arch: 'mlp' }, 'MLP');
    assert.deepEqual([mlp.state, mlp.ready, mlp.runs.length, mlp.note], ['complete', true, 8, null]);

    const conv = selectSection(study, { arch: 'conv2' }, 'Conv-2');
    assert.equal(conv.state, 'absent');
    assert.equal(conv.ready, false);
    assert.match(conv.note ?? '', /Conv-2: none of the 2 runs of profile fake is computed yet/);
    assert.match(conv.note ?? '', /npm run sweep -- --profile fake --arch conv2/);

    const partial = selectSection(fakeStudy(profile, mlpOnly.slice(0, 5)), { arch: 'mlp' }, 'MLP');
    assert.equal(partial.state, 'partial');
    assert.equal(partial.ready, true);
    assert.match(partial.note ?? '', /3 of 8 runs are not computed yet; what follows uses the 5 that are/);

    const resnet = selectSection(study, { arch: 'resnet' }, 'ResNet');
    assert.equal(resnet.state, 'not-in-profile');
    assert.equal(resnet.ready, false);
    assert.match(resnet.note ?? '', /profile fake has no such runs.*Profiles smoke, cpu, paper have them: render with DENSITY_PROFILE=smoke/);

    const adagrad = selectSection(fakeStudy(profile, allRuns(profile)), { arch: 'conv2', optimizer: 'adagrad' }, 'Adagrad');
    assert.deepEqual(
      adagrad.runs.map((r) => r.row.optimizer),
      ['adagrad'],
    );
    const narrow = selectSection(study, { widths: [0.1] }, 'narrow');
    assert.ok(narrow.runs.every((r) => r.row.width === 0.1));
  });

  it('selectSection leaves diverged runs out of the figures and says so', () => {
    const runs = allRuns(profile).filter((r) => r.row.arch === 'mlp');
    runs[2] = fakeRun({ width: runs[2].row.width, init: runs[2].row.init as 'glorot' | 'he', initSeed: runs[2].row.initSeed, status: 'diverged' });
    const s = selectSection(fakeStudy(profile, runs), { arch: 'mlp' }, 'MLP');
    assert.equal(s.runs.length, 7);
    assert.equal(s.diverged.length, 1);
    assert.match(s.note ?? '', /1 run diverged during training \(mlp .*\) and is left out/);
    assert.equal(selectSection(fakeStudy(profile, runs), { arch: 'mlp', completeOnly: false }, 'MLP').runs.length, 8);
  });

  it('profilesWith lists the built-in profiles that have runs of a selection', () => {
    assert.deepEqual(
      profilesWith({ arch: 'resnet' }, 'smoke'),
      Object.keys(PROFILES).filter((p) => p !== 'smoke'),
    );
    assert.deepEqual(profilesWith({ arch: 'resnet', widths: [5] }, 'x'), []);
  });

  it('loadStudy on an empty outputs folder: every run missing, nothing thrown', async function () {
    this.timeout(60000);
    const saved = process.env.DENSITY_OUTPUTS;
    process.env.DENSITY_OUTPUTS = fs.mkdtempSync(path.join(os.tmpdir(), 'density-report-empty-'));
    try {
      const study = await loadStudy('smoke', { analysis: { threshold: 7 } });
      assert.equal(study.runs.length, 0);
      assert.equal(study.missing.length, study.expected.length);
      assert.ok(study.expected.length > 0);
      assert.equal(study.analysis.threshold, 7);
      assert.equal(study.profileSpec, 'smoke');
      assert.match(missingRunsNote(study) ?? '', /npm run sweep -- --profile smoke/);
    } finally {
      process.env.DENSITY_OUTPUTS = saved;
    }
  });

  it('loadStudy with compute: trains the missing runs in this process, logs each, and returns them (a profile file works too)', async function () {
    this.timeout(120000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'density-report-compute-'));
    const file = path.join(dir, 'tiny.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        name: 'tiny',
        description: 'one tiny MLP',
        budget: 'seconds',
        departures: ['tiny'],
        analysis: {},
        groups: [
          {
            label: 'mlp',
            base: {
              architecture: 'mlp',
              trainSubset: 500,
              validationSize: 200,
              stop: { kind: 'targetTrainLoss', target: 0.01, window: 4, checkEvery: 4, maxEpochs: 1 },
              pruning: { levels: 5, step: 0.2 },
            },
            widths: [0.1],
            inits: ['glorot'],
            initSeeds: 1,
            dataSeeds: 1,
          },
        ],
      }),
    );
    const saved = process.env.DENSITY_OUTPUTS;
    process.env.DENSITY_OUTPUTS = path.join(dir, 'outputs');
    try {
      const lines: string[] = [];
      const before = await loadStudy(file, { log: (l) => lines.push(l) });
      assert.equal(before.missing.length, 1);
      assert.equal(lines.length, 0, 'nothing computed without compute: true');
      const study = await loadStudy(file, { compute: true, log: (l) => lines.push(l) });
      assert.equal(study.runs.length, 1);
      assert.equal(study.missing.length, 0);
      assert.equal(study.sweep?.done, 1);
      assert.match(lines.join('\n'), /^\[sweep\] finished mlp 0\.1x glorot i0 d0 in \d+ s$/);
      assert.equal(study.runs[0].record.trajectory?.length, 6);
      assert.equal(study.profileSpec, file);
      assert.match(provenanceSummary(study).profile, /^tiny \(.*tiny\.json\)$/);
    } finally {
      process.env.DENSITY_OUTPUTS = saved;
    }
  });
});
