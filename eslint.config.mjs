// Flat config: typescript-eslint's recommended rules over the sources and tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['scripts/**/*.mjs'], languageOptions: { globals: { URL: 'readonly', process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', fetch: 'readonly', performance: 'readonly' } } },
  // Plain CommonJS run by Node as is (worker threads): require is how it loads its modules.
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly' } }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // Bots as developers write them (plain CommonJS JavaScript), used as fixtures.
  { files: ['test/fixtures/**/*.js'], languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // The import rules of docs/architecture.md. The core names no platform and uses no dialog (types of
  // their interfaces excepted) but in its composition roots; the emulations are independent of the
  // adapters; dialogs know no platform; platforms do not import each other.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/app.ts', 'src/load-config.ts', 'src/index.ts', 'src/advanced.ts', 'src/testing.ts', 'src/cli/**', 'src/bot/**', 'src/hosting/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/adapters/**'], message: 'the core names no platform: compose platforms in src/app.ts (adapters/platforms.ts)' },
            { group: ['**/dialogs/**'], allowTypeImports: true, message: 'the core uses no dialog (a type of its interface is fine)' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/sandbox/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/adapters/**', '**/dialogs/**', '**/pipeline/**'], message: 'the emulations are independent of the code they emulate for: their own schemas and signing' }] },
      ],
    },
  },
  {
    files: ['dialogs/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/adapters/**'], message: 'dialogs are platform neutral' }] }] },
  },
  ...['nimchat', 'woztell', 'inbenta'].map((platform) => ({
    files: [`adapters/${platform}/**/*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['nimchat', 'woztell', 'inbenta'].filter((p) => p !== platform).map((p) => `../${p}/**`), message: 'platforms do not import each other' }] },
      ],
    },
  })),
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
