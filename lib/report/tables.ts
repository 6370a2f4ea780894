// Tables in the notebooks: rows of plain objects -> a danfo DataFrame (for the reader to slice, sort and
// describe in a cell) -> HTML. danfo's own toString is a text table, so the HTML is built here.
import * as dfd from 'danfojs-node';
import { escapeHtml, showHtml } from '../plots/display';
import { formatP } from './aggregate';

export type Cell = string | number | boolean | null;
export type TableRow = Record<string, Cell>;

/**
 * How a column's numbers are written: digits after the point; 'int' (thousands separators); 'p' (p-values:
 * "p < 1e-16", exponent below 0.001); 'pct' (one decimal and a % sign). Default: integers as 'int', other
 * numbers with `digits` (default 2).
 */
export type ColumnFormat = number | 'int' | 'p' | 'pct';

export interface TableOptions {
  caption?: string;
  digits?: number;
  formats?: Record<string, ColumnFormat>;
  /** Columns (and their order); default: the frame's. */
  columns?: string[];
}

/** A DataFrame of the rows with these columns (default: the first row's keys); empty rows give an empty frame. */
export function toFrame(rows: readonly TableRow[], columns?: string[]): dfd.DataFrame {
  const cols = columns ?? (rows.length ? Object.keys(rows[0]) : []);
  if (rows.length === 0) return new dfd.DataFrame([], { columns: cols });
  return new dfd.DataFrame(
    rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null]))),
    { columns: cols },
  );
}

/**
 * One cell as text. Without a format, a number is written as an integer when its whole column is integers
 * (`integerColumn`), else with `digits` decimals, so a column never mixes "55" and "66.0".
 */
export function formatCell(v: unknown, format: ColumnFormat | undefined, digits: number, integerColumn = false): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (format === 'p') return formatP(v).replace(/^p = /, '').replace(/^p /, '');
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    if (format === 'pct') return `${v.toFixed(1)}%`;
    if (format === 'int' || (format === undefined && integerColumn)) return Math.round(v).toLocaleString('en-US');
    return v.toFixed(typeof format === 'number' ? format : digits);
  }
  return String(v);
}

/** An HTML table of a DataFrame: header from its columns, cells formatted per column and escaped. */
export function dfToHtml(df: dfd.DataFrame, opts: TableOptions = {}): string {
  const all = df.columns as string[];
  const columns = opts.columns ?? all;
  const index = columns.map((c) => {
    const i = all.indexOf(c);
    if (i < 0) throw new Error(`dfToHtml: no column '${c}'; columns: ${all.join(', ')}`);
    return i;
  });
  const digits = opts.digits ?? 2;
  // An empty frame's values is [] (shape [0, k]); a one-column frame's rows are still arrays.
  const values = (df.shape[0] === 0 ? [] : df.values) as unknown[][];
  const integer = index.map((i) => values.every((row) => typeof row[i] !== 'number' || Number.isInteger(row[i])));
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = values
    .map((row) => `<tr>${index.map((i, j) => `<td>${escapeHtml(formatCell(row[i], opts.formats?.[columns[j]], digits, integer[j]))}</td>`).join('')}</tr>`)
    .join('\n');
  const caption = opts.caption ? `<caption style="caption-side:top;text-align:left">${escapeHtml(opts.caption)}</caption>` : '';
  const empty = values.length === 0 ? `<tr><td colspan="${columns.length || 1}"><i>no rows</i></td></tr>` : '';
  return `<table class="density-table">${caption}<thead><tr>${head}</tr></thead><tbody>${body}${empty}</tbody></table>`;
}

/** Show a DataFrame as an HTML table. */
export function showFrame(df: dfd.DataFrame, opts: TableOptions = {}): void {
  showHtml(dfToHtml(df, opts));
}

/**
 * Rows -> DataFrame -> HTML table. Returns nothing, so a cell ending with it prints no frame dump; for the
 * frame itself use toFrame(rows) (then showFrame(df) after reshaping it).
 */
export function showRows(rows: readonly TableRow[], opts: TableOptions = {}): void {
  showFrame(toFrame(rows, opts.columns), opts);
}

/** Rows as a Markdown table, cells written as in the HTML tables (README's generated blocks). */
export function rowsToMarkdown(rows: readonly TableRow[], opts: Omit<TableOptions, 'caption'> = {}): string {
  const columns = opts.columns ?? (rows.length ? Object.keys(rows[0]) : []);
  if (columns.length === 0) return '';
  const digits = opts.digits ?? 2;
  const integer = columns.map((c) => rows.every((r) => typeof r[c] !== 'number' || Number.isInteger(r[c])));
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const line = (cells: string[]) => `| ${cells.map(esc).join(' | ')} |`;
  return [
    line(columns),
    `|${columns.map(() => '---').join('|')}|`,
    ...rows.map((r) => line(columns.map((c, j) => formatCell(r[c], opts.formats?.[c], digits, integer[j])))),
  ].join('\n');
}
