// README's numbers for the results that are still growing (the CIFAR sweep, the verdicts) are generated, not typed:
// each block between `<!-- name: profile -->` and `<!-- /name -->` is one entry here, rendered from a profile's
// results. `npm run readme` rewrites them; test/report/readmeBlocks.test.ts fails when one is stale against the
// committed records.
import { byWidth, LEFT_OUT_COLUMN, leftOutCount, meanSd, regimesOf, widthLabel, type Regime } from './aggregate';
import { checkClaims, claimsMarkdown } from './claims';
import { overlapCaption, overlapCells, overlapRows } from './initOverlap';
import { anovaVerdict, regimeComparison, table2Rows } from './nullHypothesis';
import type { Study } from './study';
import { rowsToMarkdown, type ColumnFormat, type TableRow } from './tables';

export interface ReadmeBlock {
  name: string;
  /** What the block holds, for `npm run readme -- --help`. */
  what: string;
  render(study: Study): string;
}

/** The CIFAR-10 regimes of a study (complete runs, grouped as the notebooks do), in profile order. */
function cifarRegimes(study: Study): Regime[] {
  return regimesOf(study.runs.filter((r) => r.row.status === 'complete')).filter((g) => g.dataset === 'cifar10');
}

const range = (xs: number[]) =>
  xs.length === 0 ? '' : Math.min(...xs) === Math.max(...xs) ? String(Math.min(...xs)) : `${Math.min(...xs)}-${Math.max(...xs)}`;

/** Per CIFAR regime and width: runs computed of planned, epochs, validation accuracy and effective density. */
export function cifarRunRows(study: Study): TableRow[] {
  return cifarRegimes(study).flatMap((g) => {
    const planned = (w: number) => study.expected.filter((e) => e.group === g.key && e.descriptor.width === w).length;
    return byWidth([...g.runs, ...g.leftOut.map((l) => l.run)]).map(({ width, runs }) => {
      const kept = g.runs.filter((r) => r.row.width === width);
      const acc = meanSd(
        kept
          .map((r) => r.row.validationAccuracy)
          .filter((x): x is number => x !== null)
          .map((x) => 100 * x),
      );
      const ed = meanSd(kept.map((r) => r.row.effectiveDensity).filter((x): x is number => x !== null));
      const best = runs.map((r) => r.record.training.bestEpoch).filter((x): x is number => typeof x === 'number');
      return {
        regime: g.title,
        width: widthLabel(width),
        runs: `${runs.length} of ${planned(width)}`,
        epochs: range(runs.map((r) => r.row.epochs)),
        'best epoch': range(best),
        'validation accuracy (%)': acc.mean,
        'accuracy sd': acc.sd,
        'effective density (%)': ed.mean,
        'density sd': ed.sd,
        [LEFT_OUT_COLUMN]: leftOutCount(g, width),
      };
    });
  });
}

const TABLE2_FORMATS: Record<string, ColumnFormat> = {
  'observed mean': 1,
  'observed sd': 1,
  'paper observed mean': 1,
  'paper observed sd': 1,
  'null mean': 1,
  'null sd': 1,
  'paper null mean': 1,
  'paper null sd': 1,
  t: 2,
  p: 'p',
};

/** Table 2 of every CIFAR regime with the paper's numbers beside ours, and its ANOVA line. */
export function cifarTable2Markdown(study: Study): string {
  const parts = cifarRegimes(study).map((g) => {
    const cmp = regimeComparison(g);
    if (!cmp) return `**${g.title}**: no runs yet.`;
    const rows = table2Rows(g, cmp).map((r) => ({ ...r, width: widthLabel(r.width as number) }));
    return `**${g.title}**\n\n${rowsToMarkdown(rows, { formats: TABLE2_FORMATS })}\n\n${anovaVerdict(cmp.anova)}`;
  });
  return parts.length ? parts.join('\n\n') : 'No CIFAR-10 runs yet.';
}

/** Table 4 (Conv-2/Adam overlap per layer), ours beside the paper's, for every CIFAR regime the paper has it for. */
export function table4Markdown(study: Study): string {
  const parts = cifarRegimes(study)
    .filter((g) => g.paper === 'conv2-adam')
    .map(
      (g) =>
        `${overlapCaption(g)}:\n\n${rowsToMarkdown(
          overlapRows(g, overlapCells(g)).map((r) => ({ ...r, width: widthLabel(r.width as number) })),
          { digits: 1 },
        )}`,
    );
  return parts.length ? parts.join('\n\n') : 'No Conv-2/Adam runs yet.';
}

/** README's generated blocks. A new block is one entry (and its markers in README). */
export const README_BLOCKS: readonly ReadmeBlock[] = [
  { name: 'claims', what: "every claim's verdict (npm run claims --format md-short)", render: (s) => claimsMarkdown(checkClaims(s), { short: true }) },
  {
    name: 'cifar-runs',
    what: 'per CIFAR regime and width: runs computed, epochs, validation accuracy, effective density',
    render: (s) =>
      rowsToMarkdown(cifarRunRows(s), { formats: { width: 1, 'validation accuracy (%)': 1, 'accuracy sd': 1, 'effective density (%)': 1, 'density sd': 1 } }),
  },
  { name: 'cifar-table2', what: "Table 2 for the CIFAR regimes beside the paper's, with the ANOVA", render: cifarTable2Markdown },
  { name: 'table4', what: "Table 4 (Conv-2/Adam init/trained overlap) beside the paper's", render: table4Markdown },
];

const MARKER = /<!-- ([a-z0-9-]+): ([^\s>]+) -->\n(?:([\s\S]*?)\n)??<!-- \/([a-z0-9-]+) -->/g;

export interface ReadmeMarker {
  name: string;
  profile: string;
  /** The block's current text. */
  body: string;
}

/** The generated blocks a README holds, with the profile each is rendered from; refuses unknown or unclosed blocks. */
export function readmeMarkers(readme: string): ReadmeMarker[] {
  const out: ReadmeMarker[] = [];
  for (const m of readme.matchAll(MARKER)) {
    const [, name, profile, body = '', close] = m;
    if (close !== name) throw new Error(`README: block '${name}: ${profile}' is closed by '<!-- /${close} -->'; expected '<!-- /${name} -->'`);
    if (!README_BLOCKS.some((b) => b.name === name))
      throw new Error(`README: unknown generated block '${name}'; known: ${README_BLOCKS.map((b) => b.name).join(', ')}`);
    out.push({ name, profile, body });
  }
  const opened = [...readme.matchAll(/<!-- ([a-z0-9-]+): [^\s>]+ -->/g)].length;
  if (opened !== out.length) throw new Error(`README: ${opened - out.length} generated block(s) without a matching '<!-- /name -->' line`);
  return out;
}

/** README with every block of `profile` rendered from `study`; `changed` names the blocks whose text moved. */
export function renderReadme(readme: string, study: Study): { text: string; changed: string[] } {
  readmeMarkers(readme); // refuse a malformed README before touching it
  const changed: string[] = [];
  const text = readme.replace(MARKER, (all, name: string, profile: string, body: string | undefined) => {
    if (profile !== study.profileSpec) return all;
    const block = README_BLOCKS.find((b) => b.name === name) as ReadmeBlock;
    const fresh = block.render(study);
    if (fresh !== (body ?? '')) changed.push(`${name}: ${profile}`);
    return `<!-- ${name}: ${profile} -->\n${fresh}\n<!-- /${name} -->`;
  });
  return { text, changed };
}
