// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '.ci-artifacts/**',
      '.tmp-*/**',
      'data/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
    },
  },
  {
    // R-invariant: domain/ stays pure — no I/O modules.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:fs',
                'node:fs/*',
                'node:net',
                'node:http',
                'node:https',
                'node:child_process',
                'fs',
                'net',
                'http',
              ],
              message: 'domain/ never imports I/O.',
            },
            {
              group: [
                '../store/*',
                '../http/*',
                '../cli/*',
                '../services/*',
                '../keys/*',
                '../config/*',
                '../crypto/*',
                '../../*',
              ],
              message: 'domain/ imports nothing from other folders.',
            },
          ],
        },
      ],
    },
  },
  {
    // Drivers differ at run time from the declared row types (pg's int8, SQLite's integers), so
    // repositories convert explicitly even where the types say it is unnecessary.
    files: ['src/store/**/*.ts'],
    rules: { '@typescript-eslint/no-unnecessary-type-conversion': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
