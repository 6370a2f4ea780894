// The import graph of lib/: no cycles between files, and no module importing one of a higher layer. Type-only
// imports count too (a type is part of a module's contract). `npm run check:imports` runs dpdm over the same graph.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const LIB = path.join(__dirname, '..', 'lib');

/**
 * The layers of lib/, lowest first: a module may import its own unit and units of lower layers only. A unit is a
 * folder of lib/ or a file directly in it (without .ts); 'store/atomic' (atomic file writes, used by the readers and
 * the weight files) is a unit of its own.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['rng', 'paths', 'suggest', 'packages', 'store/atomic'],
  ['data'],
  ['models'],
  ['fast'],
  ['backend'],
  ['train'],
  ['prune'],
  ['analysis'],
  ['protocol'],
  ['store'],
  ['experiments'],
  ['queue'],
  ['plots'],
  ['render'],
  ['report'],
  ['cli'],
];

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

interface Import {
  target: string;
  /** Erased at compile time (import type / export type, or every named binding type-only). */
  typeOnly: boolean;
  /** The specifier names a folder (resolved to its index.ts). */
  folder: boolean;
}

/** What a file imports or re-exports from lib/ (relative specifiers resolved to files). */
function importDetails(file: string): Import[] {
  const src = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const out: Import[] = [];
  for (const s of src.statements) {
    if (!(ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) || !s.moduleSpecifier || !ts.isStringLiteral(s.moduleSpecifier)) continue;
    const spec = s.moduleSpecifier.text;
    if (!spec.startsWith('.')) continue;
    const base = path.resolve(path.dirname(file), spec);
    const target = [`${base}.ts`, path.join(base, 'index.ts'), base].find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
    if (!target) throw new Error(`${path.relative(LIB, file)}: cannot resolve '${spec}'`);
    let typeOnly: boolean;
    if (ts.isExportDeclaration(s)) typeOnly = s.isTypeOnly;
    else {
      const c = s.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      typeOnly = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
    }
    out.push({ target, typeOnly, folder: target === path.join(base, 'index.ts') });
  }
  return out;
}

/** The lib/ files a file imports or re-exports from. */
function importsOf(file: string): string[] {
  return importDetails(file).map((i) => i.target);
}

/** The unit of a lib/ file: 'store/atomic', else its folder, else its name without .ts. */
function unitOf(file: string): string {
  const rel = path.relative(LIB, file).split(path.sep).join('/').replace(/\.ts$/, '');
  if (rel === 'store/atomic') return rel;
  return rel.split('/')[0];
}

/** The import cycles of a directed graph: each strongly connected set of more than one node, or a node importing itself. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's strongly connected components; a component with more than one node, or a self-import, is a cycle.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(comp.reverse());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return cycles;
}

describe('lib/ import graph', () => {
  const files = tsFiles(LIB);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const rel = (f: string) => path.relative(LIB, f).split(path.sep).join('/');

  it('has no import cycle between files (type-only imports included)', () => {
    const cycles = findCycles(graph).map((c) => `files importing each other: ${c.map(rel).join(', ')}`);
    assert.deepEqual(cycles, []);
  });

  it('every unit of lib/ has a layer, and no module imports a higher layer or another unit of its own layer', () => {
    const layerOf = new Map<string, number>();
    LAYERS.forEach((units, i) => units.forEach((u) => layerOf.set(u, i)));
    const problems: string[] = [];
    for (const [file, deps] of graph) {
      const from = unitOf(file);
      const lf = layerOf.get(from);
      if (lf === undefined) {
        problems.push(`${rel(file)}: unit '${from}' is in no layer (add it to LAYERS in test/imports.test.ts)`);
        continue;
      }
      for (const dep of deps) {
        const to = unitOf(dep);
        if (to === from) continue;
        const lt = layerOf.get(to);
        if (lt === undefined || lt >= lf) problems.push(`${rel(file)} (${from}, layer ${lf}) imports ${rel(dep)} (${to}, layer ${lt ?? 'none'})`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('what the notebooks load (lib/report/index.ts) requires files, never folders: tslab loads only <specifier>.js', () => {
    const bad: string[] = [];
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const i of importDetails(file)) {
        if (i.typeOnly) continue;
        if (i.folder) bad.push(`${rel(file)} imports the folder of ${rel(i.target)}: name the file`);
        visit(i.target);
      }
    };
    visit(path.join(LIB, 'report', 'index.ts'));
    assert.deepEqual(bad, []);
  });

  it('findCycles finds a cycle and a self-import, and nothing in a tree', () => {
    assert.deepEqual(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
        ]),
      ),
      [['a', 'b', 'c']],
    );
    assert.deepEqual(findCycles(new Map([['a', ['a']]])), [['a']]);
    assert.deepEqual(
      findCycles(
        new Map([
          ['a', ['b', 'c']],
          ['b', ['c']],
          ['c', []],
        ]),
      ),
      [],
    );
  });
});
