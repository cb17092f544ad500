// Type-aware linting for every TypeScript file in the workspace. The promise rules are the point:
// a floating promise in a policy or an adapter is a lost error or an unhandled rejection.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // scripts/smoke is a user's app, type-checked in its own install by scripts/check-tarballs.mjs.
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.js', '**/*.mjs', '**/*.cjs', 'scripts/smoke/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Named exports only (DESIGN.md).' },
      ],
    },
  },
  {
    // Tests and benches poke at internals and use loose fixtures; keep the promise rules, relax the rest.
    files: ['**/test/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts', 'internal/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Finding control characters is what these regexes are for.
    files: ['packages/sanitize/**/*.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // Config files are default-export by their tools' contract.
    files: ['**/tsup.config.ts', 'vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
