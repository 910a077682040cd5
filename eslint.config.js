// Lint rules: typescript-eslint's recommended set, type-aware, plus the few habits STYLE.md asks for.
// Import direction (no cycles, no wrong-way imports) is enforced by dependency-cruiser
// (.dependency-cruiser.cjs), which `npm run lint` runs after ESLint.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.recsys/',
      'data/',
      'test-results/',
      'coverage/',
      'services/serving/public/vendor/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Only shared/config reads process.env (STYLE.md: config is read once).',
        },
      ],
    },
  },
  {
    files: ['shared/config/**', 'scripts/**', 'test/**', 'bench/**', 'bin/**', '*.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly' },
    },
  },
  {
    // The demo page's script runs in the browser, unbundled.
    files: ['services/serving/demo/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['document', 'location', 'fetch', 'performance', 'URLSearchParams', 'setTimeout', 'setInterval'].map(
          (name) => [name, 'readonly'],
        ),
      ),
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
