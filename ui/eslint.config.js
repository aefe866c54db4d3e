// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // src/bindings.ts is generated from the Rust commands (docs/decisions/desktop-contract.md).
  { ignores: ['dist', 'node_modules', 'coverage', 'src/bindings.ts'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  reactHooks.configs.flat['recommended-latest'],
  {
    languageOptions: {
      ecmaVersion: 2022,
      globals: globals.browser,
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // Screens reach the backend through src/backend.ts, which turns every failure into a
      // BackendError; the generated bindings are for their types.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/bindings'],
              importNames: ['commands', 'events'],
              message: 'Call commands and listen to events through src/backend.ts.',
            },
          ],
        },
      ],
    },
  },
  { files: ['src/backend.ts'], rules: { 'no-restricted-imports': 'off' } },
  // This config file is plain JS outside the TypeScript project: lint it without types.
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
);
