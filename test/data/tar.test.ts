import { strict as assert } from 'assert';
import { readTar, type TarEntry } from '../../lib/data/tar';
import { buildTar, chunked, tarHeader } from './helpers';

/** Read a tar from `buf` in pieces of `chunk` bytes; returns every entry with its data. */
async function readAll(buf: Buffer, chunk: number): Promise<{ entry: TarEntry; data: Buffer }[]> {
  const out: { entry: TarEntry; data: Buffer }[] = [];
  await readTar(
    chunked(buf, chunk),
    (entry) => {
      const parts: Buffer[] = [];
      return { write: (c) => void parts.push(Buffer.from(c)), end: () => void out.push({ entry, data: Buffer.concat(parts) }) };
    },
    'test.tar',
  );
  return out;
}

/** A GNU long-name record ('L') followed by the real entry (names over 100 bytes). */
function gnuLongName(name: string, data: Buffer): Buffer {
  const nameBytes = Buffer.from(name + '\0');
  const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);
  return Buffer.concat([
    tarHeader('././@LongLink', nameBytes.length, 'L'),
    nameBytes,
    pad(nameBytes.length),
    tarHeader(name.slice(0, 99), data.length, '0'),
    data,
    pad(data.length),
  ]);
}

function paxPathRecord(name: string, data: Buffer): Buffer {
  const body = (len: number): string => `${len} path=${name}\n`;
  let len = body(0).length;
  while (body(len).length !== len) len = body(len).length; // the length field counts its own digits
  const rec = Buffer.from(body(len));
  const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);
  return Buffer.concat([tarHeader('PaxHeader/x', rec.length, 'x'), rec, pad(rec.length), tarHeader('short', data.length, '0'), data, pad(data.length)]);
}

describe('data/tar', () => {
  const big = Buffer.from(Array.from({ length: 1500 }, (_, i) => (i * 13) % 251));
  const archive = buildTar([
    { name: 'dir/', type: '5' },
    { name: 'dir/a.bin', data: big },
    { name: 'dir/empty', data: Buffer.alloc(0) },
    { name: 'dir/exact', data: Buffer.alloc(512, 7) },
    { name: 'some/long/prefix/dir/b.txt', data: Buffer.from('hello'), usePrefix: true },
  ]);

  for (const chunk of [1, 7, 512, 100000]) {
    it(`reads entries, sizes, types, prefixes and data across chunk boundaries (chunks of ${chunk} bytes)`, async () => {
      const got = await readAll(archive, chunk);
      assert.deepEqual(
        got.map((g) => [g.entry.name, g.entry.type, g.entry.size]),
        [
          ['dir/', '5', 0],
          ['dir/a.bin', '0', 1500],
          ['dir/empty', '0', 0],
          ['dir/exact', '0', 512],
          ['some/long/prefix/dir/b.txt', '0', 5],
        ],
      );
      assert.ok(got[1].data.equals(big));
      assert.ok(got[3].data.equals(Buffer.alloc(512, 7)));
      assert.equal(got[4].data.toString(), 'hello');
      assert.equal(got[1].entry.mode, 0o644);
    });
  }

  it('applies GNU long names and pax path records to the following entry', async () => {
    const long = 'cifar-10-batches-bin/' + 'x'.repeat(120) + '.bin';
    const buf = Buffer.concat([gnuLongName(long, Buffer.from('abc')), paxPathRecord('pax/named.bin', Buffer.from('de')), Buffer.alloc(1024)]);
    const got = await readAll(buf, 33);
    assert.deepEqual(got.map((g) => [g.entry.name, g.data.toString()]), [[long, 'abc'], ['pax/named.bin', 'de']]);
  });

  it('rejects a header whose checksum does not match, naming the archive and offset', async () => {
    const bad = Buffer.from(archive);
    bad[512 + 10] ^= 0xff; // a byte of the second header's name
    await assert.rejects(readAll(bad, 4096), /test\.tar: tar header at byte 512: corrupt tar header \(checksum/);
  });

  it('rejects an archive cut inside an entry, inside a header, or before the end block', async () => {
    await assert.rejects(readAll(archive.subarray(0, 512 + 512 + 700), 4096), /truncated archive: it ends inside "dir\/a\.bin" \(1500 bytes expected, 700 present\)/);
    await assert.rejects(readAll(archive.subarray(0, 512 + 100), 4096), /truncated archive: it ends after 612 bytes without the end-of-archive block/);
    // Everything present but the zero blocks: still incomplete, a writer may have died before finishing.
    await assert.rejects(readAll(archive.subarray(0, archive.length - 1024), 4096), /without the end-of-archive block/);
    await assert.rejects(readAll(Buffer.alloc(0), 1), /ends after 0 bytes/);
  });

  it('rejects a non-octal size field', async () => {
    const h = tarHeader('f', 3);
    h.write('12x', 124, 3, 'ascii');
    // recompute the checksum so the size field is what fails
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += h[i];
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
    await assert.rejects(readAll(Buffer.concat([h, Buffer.alloc(1536)]), 512), /size field is "12x.*", not octal/);
  });
});
