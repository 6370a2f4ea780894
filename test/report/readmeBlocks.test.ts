// README's generated blocks (lib/report/readme.ts): each is what its renderer gives on the committed records of its
// profile, so a new run record or a changed rule cannot leave README saying something else; and the block parser
// refuses malformed markers instead of rewriting the wrong text.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../../lib/paths';
import { cifarRunRows, readmeMarkers, renderReadme, README_BLOCKS } from '../../lib/report/readme';
import { loadStudy } from '../../lib/report/study';
import { committedOutputsCopy } from '../../lib/store/committed';
import { allRuns, fakeProfile, fakeStudy } from './fixtures';

describe('README: generated blocks', function () {
  this.timeout(120_000);

  it('every block is what `npm run readme` renders from the committed records', async () => {
    const readme = fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    const markers = readmeMarkers(readme);
    assert.deepEqual([...new Set(markers.map((m) => m.name))].sort(), README_BLOCKS.map((b) => b.name).sort(), 'README holds each block');
    // Only what git tracks: a sweep running beside the tests adds records the README cannot know yet.
    const outputs = committedOutputsCopy();
    const saved = process.env.DENSITY_OUTPUTS;
    process.env.DENSITY_OUTPUTS = outputs;
    try {
      let text = readme;
      for (const profile of [...new Set(markers.map((m) => m.profile))]) {
        const r = renderReadme(text, await loadStudy(profile, { log: () => {} }));
        assert.deepEqual(r.changed, [], 'README is stale: commit the new run records, then npm run readme -- --committed');
        text = r.text;
      }
      assert.equal(text, readme);
    } finally {
      if (saved === undefined) delete process.env.DENSITY_OUTPUTS;
      else process.env.DENSITY_OUTPUTS = saved;
      fs.rmSync(outputs, { recursive: true, force: true });
    }
  });

  const profile = fakeProfile(
    [
      { label: 'conv2-adam', arch: 'conv2', optimizer: 'adam', widths: [0.1, 1], initSeeds: 2 },
      { label: 'resnet', arch: 'resnet', optimizer: 'sgd', widths: [0.1], initSeeds: 2 },
    ],
    'fake',
  );
  const study = fakeStudy(
    profile,
    allRuns(profile, (d) => ({ accuracy: d.width === 1 ? 0.6 : 0.45, dropAt: 10 + d.initSeed, epochs: 5 + d.initSeed })).filter(
      (r) => !(r.row.width === 1 && r.row.initSeed === 1),
    ),
  );

  it("renders the blocks of its profile, leaves other profiles' blocks alone, and names what changed", () => {
    const readme = [
      'intro',
      '<!-- cifar-runs: fake -->',
      'old text',
      '<!-- /cifar-runs -->',
      'middle',
      '<!-- claims: cpu -->',
      'kept as is',
      '<!-- /claims -->',
      '<!-- table4: fake -->',
      '<!-- /table4 -->',
      'end',
    ].join('\n');
    const r = renderReadme(readme, study);
    assert.deepEqual(r.changed, ['cifar-runs: fake', 'table4: fake']);
    assert.match(r.text, /^intro\n<!-- cifar-runs: fake -->\n\| regime \| width \| runs \| epochs \|/);
    assert.match(r.text, /\| Conv-2 \(Adam, CIFAR-10\) \| 1x \| 1 of 2 \| 5 \| 5 \| 60\.0 \| {2}\| 80\.0 \| {2}\| 0 \|/);
    assert.match(r.text, /\| ResNet \(SGD, CIFAR-10\) \| 0\.1x \| 2 of 2 \| 5-6 \|/);
    assert.match(r.text, /\nmiddle\n<!-- claims: cpu -->\nkept as is\n<!-- \/claims -->\n<!-- table4: fake -->\nConv-2 \(Adam, CIFAR-10\): overlap/);
    assert.match(r.text, /\n<!-- \/table4 -->\nend$/);
    // Rendering again changes nothing.
    assert.deepEqual(renderReadme(r.text, study).changed, []);
    assert.equal(cifarRunRows(study).length, 3);
  });

  it('refuses unknown, crossed and unclosed blocks, naming them', () => {
    assert.throws(
      () => readmeMarkers('<!-- tables: cpu -->\nx\n<!-- /tables -->'),
      /unknown generated block 'tables'; known: claims, cifar-runs, cifar-table2, table4/,
    );
    assert.throws(
      () => readmeMarkers('<!-- claims: cpu -->\nx\n<!-- /table4 -->'),
      /block 'claims: cpu' is closed by '<!-- \/table4 -->'; expected '<!-- \/claims -->'/,
    );
    assert.throws(() => readmeMarkers('<!-- claims: cpu -->\nx\n'), /1 generated block\(s\) without a matching/);
    assert.throws(() => renderReadme('<!-- claims: fake -->\n', study), /without a matching/);
  });
});
