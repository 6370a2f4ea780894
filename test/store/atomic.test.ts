import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cleanTempFiles, readJson, replaceDirAtomic, tempPathFor, writeFileAtomic, writeJsonAtomic } from '../../lib/store/atomic';

describe('store/atomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'density-atomic-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the new content, replaces the old, leaves no temp file', () => {
    const f = path.join(dir, 'sub', 'a.json');
    writeJsonAtomic(f, { a: 1 });
    writeJsonAtomic(f, { a: 2 });
    assert.deepEqual(readJson(f), { ok: true, value: { a: 2 } });
    assert.deepEqual(fs.readdirSync(path.dirname(f)), ['a.json']);
  });

  it('tells a missing file from a corrupt one', () => {
    assert.deepEqual(readJson(path.join(dir, 'nope.json')), { ok: false, reason: 'missing' });
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"a": 1');
    const r = readJson(path.join(dir, 'bad.json'));
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'corrupt');
  });

  it('cleans temp files and half-replaced directories a killed writer left, and nothing else', () => {
    const target = path.join(dir, 'train.json');
    writeFileAtomic(target, 'ok');
    fs.writeFileSync(tempPathFor(target), 'half');
    fs.mkdirSync(path.join(dir, 'weights'));
    fs.mkdirSync(tempPathFor(path.join(dir, 'weights', 'trained')));
    fs.writeFileSync(path.join(dir, 'notes.tmp'), 'kept: not one of our temp names');
    const removed = cleanTempFiles(dir);
    assert.equal(removed.length, 2);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['notes.tmp', 'train.json', 'weights']);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'weights')), []);
  });

  it('replaces a directory as a whole', () => {
    const target = path.join(dir, 'w');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'old.bin'), 'old');
    const staged = path.join(dir, 'w.staged');
    fs.mkdirSync(staged);
    fs.writeFileSync(path.join(staged, 'new.bin'), 'new');
    replaceDirAtomic(staged, target);
    assert.deepEqual(fs.readdirSync(target), ['new.bin']);
    assert.deepEqual(fs.readdirSync(dir), ['w']);
  });
});
