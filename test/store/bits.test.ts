import { strict as assert } from 'assert';
import { decodeBits, encodeBits } from '../../lib/store/bits';
import { Rng } from '../../lib/rng';

describe('store/bits', () => {
  it('round-trips 0/1 vectors of every length modulo 8', () => {
    const rng = new Rng(7);
    for (const n of [0, 1, 7, 8, 9, 15, 16, 17, 5000]) {
      const v = Uint8Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
      const p = encodeBits(v);
      assert.equal(p.n, n);
      assert.equal(Buffer.from(p.bits, 'base64').length, Math.ceil(n / 8));
      assert.deepEqual(decodeBits(p), v);
    }
  });

  it('packs most-significant bit first (a documented format notebooks may decode themselves)', () => {
    assert.deepEqual(encodeBits([1, 0, 0, 0, 0, 0, 0, 1, 1]), { n: 9, bits: Buffer.from([0x81, 0x80]).toString('base64') });
  });

  it('rejects values other than 0/1 and inconsistent lengths', () => {
    assert.throws(() => encodeBits([0, 2]), /entry 1/);
    assert.throws(() => decodeBits({ n: 20, bits: Buffer.from([1]).toString('base64') }), /cannot hold/);
  });
});
