// ESLint (flat config): the recommended JavaScript and typescript-eslint rules over lib, test, bench and scripts.
// `npm run lint`; CI runs it (.ci/run). Formatting is Prettier's (`npm run format:check`), not ESLint's.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['node_modules/', 'outputs/', 'data/', 'vendor/', '.jupyter/', 'notebooks/', '.scratch/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      // `_`-prefixed parameters and destructured siblings are deliberately unused (callback shapes, omitting a key).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true, caughtErrors: 'none' }],
      // The project rethrows a caught error as one sentence naming the file, the value and the fix, with the
      // original message in it; chaining the original as `cause` would print it twice.
      'preserve-caught-error': 'off',
    },
  },
  { files: ['test/**'], languageOptions: { globals: { ...globals.node, ...globals.mocha } } },
  {
    // Declaration files describe CommonJS packages the way TypeScript spells them (`import x = require(...)`).
    files: ['**/*.d.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Plain CommonJS run by node before node_modules exists (scripts/) or as mocha's config (test/*.js).
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
