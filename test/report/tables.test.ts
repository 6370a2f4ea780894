import { strict as assert } from 'assert';
import { dfToHtml, formatCell, rowsToMarkdown, toFrame } from '../../lib/report/tables';

/** The cells of an HTML table, row by row (header first). */
function cells(html: string): string[][] {
  return [...html.matchAll(/<tr>(.*?)<\/tr>/gs)].map((m) => [...m[1].matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/gs)].map((c) => c[1]));
}

describe('report/tables', () => {
  it('rows -> DataFrame -> HTML table: header, cells in column order, nulls empty, text escaped', () => {
    const df = toFrame([
      { width: 0.1, name: '<b>x</b>', n: 3, v: null },
      { width: 1, name: 'y & z', n: 12000, v: 2.5 },
    ]);
    assert.deepEqual(df.columns, ['width', 'name', 'n', 'v']);
    const t = cells(dfToHtml(df, { caption: 'Cap <1>' }));
    assert.deepEqual(t[0], ['width', 'name', 'n', 'v']);
    assert.deepEqual(t[1], ['0.10', '&lt;b&gt;x&lt;/b&gt;', '3', '']);
    assert.deepEqual(t[2], ['1.00', 'y &amp; z', '12,000', '2.50']);
    assert.match(dfToHtml(df, { caption: 'Cap <1>' }), /<caption[^>]*>Cap &lt;1&gt;<\/caption>/);
  });

  it('a column of integers is written as integers, a column mixing integers and fractions never is', () => {
    const t = cells(
      dfToHtml(
        toFrame([
          { a: 55, b: 66 },
          { a: 40, b: 62.5 },
        ]),
        { digits: 1 },
      ),
    );
    assert.deepEqual(t.slice(1), [
      ['55', '66.0'],
      ['40', '62.5'],
    ]);
  });

  it('per-column formats: digits, int, pct, p-values; NaN and infinities spelled out', () => {
    const df = toFrame([
      { d: 1.23456, i: 1234.6, pc: 12.345, p: 3.2e-7, q: 0.0456 },
      { d: NaN, i: Infinity, pc: -Infinity, p: 0, q: null },
    ]);
    const t = cells(dfToHtml(df, { formats: { d: 3, i: 'int', pc: 'pct', p: 'p', q: 'p' } }));
    assert.deepEqual(t[1], ['1.235', '1,235', '12.3%', '3.2e-7', '0.046']);
    assert.deepEqual(t[2], ['NaN', 'inf', '-inf', '&lt; 1e-16', '']);
    assert.equal(formatCell(NaN, undefined, 2), 'NaN');
    assert.equal(formatCell(true, undefined, 2), 'true');
  });

  it('chosen columns in the chosen order; an unknown column is an error naming it', () => {
    const df = toFrame([{ a: 1, b: 2, c: 3 }]);
    assert.deepEqual(cells(dfToHtml(df, { columns: ['c', 'a'] })), [
      ['c', 'a'],
      ['3', '1'],
    ]);
    assert.throws(() => dfToHtml(df, { columns: ['nope'] }), /no column 'nope'/);
    assert.deepEqual(toFrame([{ a: 1, b: 2 }], ['b']).columns, ['b']);
  });

  it('an empty table says so instead of rendering nothing', () => {
    const html = dfToHtml(toFrame([], ['x', 'y']));
    assert.deepEqual(cells(html)[0], ['x', 'y']);
    assert.match(html, /<td colspan="2"><i>no rows<\/i><\/td>/);
  });

  it('Markdown tables: cells written as in the HTML ones, pipes escaped, integer columns without decimals', () => {
    const md = rowsToMarkdown(
      [
        { name: 'a|b', n: 3, x: 1.23456, p: 1e-20 },
        { name: 'c', n: 12000, x: null, p: 0.2 },
      ],
      { formats: { p: 'p' }, digits: 1 },
    );
    assert.equal(md, ['| name | n | x | p |', '|---|---|---|---|', '| a\\|b | 3 | 1.2 | < 1e-16 |', '| c | 12,000 |  | 0.200 |'].join('\n'));
    assert.equal(rowsToMarkdown([{ a: 1, b: 2 }], { columns: ['b'] }), '| b |\n|---|\n| 2 |');
    assert.equal(rowsToMarkdown([]), '');
  });
});
