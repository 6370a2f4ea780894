// A minimal streaming reader for tar archives (POSIX ustar, plus the GNU and pax extensions that carry long
// names), enough to unpack the CIFAR-10 archive without a dependency. A tar file is a sequence of 512-byte
// header blocks, each followed by the entry's data padded to a multiple of 512, and ends with zero blocks.

export const BLOCK = 512;

export interface TarEntry {
  name: string;
  size: number;
  /** typeflag: '0' regular file ('\0' in old archives is normalised to '0'), '5' directory, ... */
  type: string;
  mode: number;
}

/** Receives one entry's data; returned by the `onEntry` callback, or null to skip the entry. */
export interface TarEntrySink {
  write(chunk: Buffer): Promise<void> | void;
  end(): Promise<void> | void;
}

function cString(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

/** Numeric header field: octal text, or GNU base-256 when the high bit of the first byte is set (files >= 8 GiB). */
function numField(buf: Buffer, start: number, len: number, what: string, where: string): number {
  const field = buf.subarray(start, start + len);
  if (field[0] & 0x80) {
    let v = field[0] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + field[i];
    return v;
  }
  const text = cString(buf, start, len).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new Error(`${where}: corrupt tar header (${what} field is ${JSON.stringify(text)}, not octal)`);
  return parseInt(text, 8);
}

/** The header checksum: the sum of all header bytes with the checksum field itself counted as spaces. */
export function tarChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum;
}

function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** pax extended header records: "<len> <key>=<value>\n"; only `path` matters here. */
function paxPath(data: Buffer): string | undefined {
  let pos = 0;
  let found: string | undefined;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = parseInt(data.subarray(pos, sp).toString('ascii'), 10);
    if (!(len > 0)) break;
    const rec = data.subarray(sp + 1, pos + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0 && rec.slice(0, eq) === 'path') found = rec.slice(eq + 1);
    pos += len;
  }
  return found;
}

type State = 'header' | 'data' | 'pad' | 'done';

/** The parser's state between chunks (a class so each step is a small method over explicit fields). */
class TarParser {
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** archive offset of the current header, for messages */
  private offset = 0;
  /** bytes of the tar stream consumed so far */
  private consumed = 0;
  state: State = 'header';
  /** data bytes left in the current entry, then padding bytes up to the next block */
  private remaining = 0;
  private padLeft = 0;
  private current: TarEntry | null = null;
  private sink: TarEntrySink | null = null;
  /** Meta entries (pax 'x'/'g', GNU 'L') are small; their data is collected here and applies to the next entry. */
  private meta: Buffer[] | null = null;
  private metaType = '';
  private nextName: string | undefined;

  constructor(
    private readonly onEntry: (entry: TarEntry) => Promise<TarEntrySink | null> | TarEntrySink | null,
    private readonly label: string,
  ) {}

  /** Consume one chunk of the tar stream. */
  async push(chunk: Buffer): Promise<void> {
    let pos = 0;
    while (pos < chunk.length && this.state !== 'done') {
      if (this.state === 'header') pos = await this.readHeader(chunk, pos);
      else if (this.state === 'data') pos = await this.readData(chunk, pos);
      else pos = await this.readPad(chunk, pos);
    }
  }

  private async readHeader(chunk: Buffer, pos: number): Promise<number> {
    const take = Math.min(BLOCK - this.headerFill, chunk.length - pos);
    chunk.copy(this.header, this.headerFill, pos, pos + take);
    this.headerFill += take;
    this.consumed += take;
    if (this.headerFill === BLOCK) {
      this.headerFill = 0;
      // A zero block ends the archive (a second zero block and padding follow; nothing to read in them).
      if (isZeroBlock(this.header)) this.state = 'done';
      else {
        this.offset = this.consumed - BLOCK;
        await this.startEntry();
      }
    }
    return pos + take;
  }

  private async readData(chunk: Buffer, pos: number): Promise<number> {
    const take = Math.min(this.remaining, chunk.length - pos);
    const part = chunk.subarray(pos, pos + take);
    if (this.meta) this.meta.push(Buffer.from(part));
    else if (this.sink) await this.sink.write(part);
    this.remaining -= take;
    this.consumed += take;
    if (this.remaining === 0) {
      if (this.padLeft > 0) this.state = 'pad';
      else await this.finishEntry();
    }
    return pos + take;
  }

  private async readPad(chunk: Buffer, pos: number): Promise<number> {
    const take = Math.min(this.padLeft, chunk.length - pos);
    this.padLeft -= take;
    this.consumed += take;
    if (this.padLeft === 0) await this.finishEntry();
    return pos + take;
  }

  private async startEntry(): Promise<void> {
    const h = this.header;
    const where = `${this.label}: tar header at byte ${this.offset}`;
    const stored = numField(h, 148, 8, 'checksum', where);
    const computed = tarChecksum(h);
    if (stored !== computed) throw new Error(`${where}: corrupt tar header (checksum ${stored}, computed ${computed})`);
    let name = cString(h, 0, 100);
    // ustar keeps a path prefix at 345..500; GNU tar (magic "ustar  ") uses those bytes for other fields.
    if (h.subarray(257, 263).toString('latin1') === 'ustar\0') {
      const prefix = cString(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    let type = String.fromCharCode(h[156]);
    if (type === '\0') type = '0';
    const size = numField(h, 124, 12, 'size', where);
    const isMeta = type === 'x' || type === 'L' || type === 'g';
    if (!isMeta && this.nextName !== undefined) {
      name = this.nextName;
      this.nextName = undefined;
    }
    this.current = { name, size, type, mode: numField(h, 100, 8, 'mode', where) };
    this.remaining = size;
    this.padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
    if (isMeta) {
      this.meta = [];
      this.metaType = type;
      this.sink = null;
    } else {
      this.meta = null;
      this.sink = await this.onEntry(this.current);
    }
    if (size > 0) this.state = 'data';
    else await this.finishEntry();
  }

  private async finishEntry(): Promise<void> {
    if (this.meta) {
      const data = Buffer.concat(this.meta);
      if (this.metaType === 'L') this.nextName = cString(data, 0, data.length);
      else if (this.metaType === 'x') this.nextName = paxPath(data) ?? this.nextName;
      this.meta = null;
    } else if (this.sink) {
      await this.sink.end();
    }
    this.sink = null;
    this.current = null;
    this.state = 'header';
  }

  /** The stream ended: anything but a clean end-of-archive block means the archive is incomplete. */
  finish(): void {
    if (this.state === 'done') return;
    if (this.current) {
      throw new Error(
        `${this.label}: truncated archive: it ends inside ${JSON.stringify(this.current.name)} ` +
          `(${this.current.size} bytes expected, ${this.current.size - this.remaining} present)`,
      );
    }
    throw new Error(`${this.label}: truncated archive: it ends after ${this.consumed} bytes without the end-of-archive block`);
  }
}

/**
 * Read a tar stream, calling `onEntry` for each file-system entry (pax/GNU long-name records are consumed
 * here). `label` names the archive in errors. Throws on a bad header checksum, a stream that ends inside an
 * entry, or a stream that ends without the end-of-archive zero block: a partial archive is never accepted.
 */
export async function readTar(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  onEntry: (entry: TarEntry) => Promise<TarEntrySink | null> | TarEntrySink | null,
  label: string,
): Promise<void> {
  const parser = new TarParser(onEntry, label);
  for await (const piece of source) {
    // Keep reading after the end block: the stream must still be drained so gzip errors past it surface.
    if (parser.state === 'done') continue;
    await parser.push(typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
  }
  parser.finish();
}
