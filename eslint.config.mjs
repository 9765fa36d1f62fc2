// Lint rules that guard the architecture (docs/architecture.md §4): the model imports no transport or ORM code.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/model/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['typeorm', 'pg', 'better-sqlite3', 'soap', 'xml-crypto', 'express', '@nestjs/platform-express'], message: 'src/model is protocol- and ORM-neutral' },
            { group: ['**/adapters/**', '**/persistence/**'], message: 'src/model must not depend on adapters or persistence' },
          ],
        },
      ],
    },
  },
);
