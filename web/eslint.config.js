// Flat config: ESLint's and typescript-eslint's recommended rules, type-aware, plus the
// rules of React hooks. Generated code (src/gql) and builds are not linted.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'src/gql/', 'node_modules/'] },
  js.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    extends: [tseslint.configs.strictTypeChecked],
    languageOptions: {
      globals: globals.browser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Right to left and left to right from one layout: logical properties only.
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'Property[key.name=/^((margin|padding|border|inset)(Left|Right)|left|right|borderTopLeftRadius|borderTopRightRadius|borderBottomLeftRadius|borderBottomRightRadius)$/]',
          message: 'Use a logical property (marginInlineStart, insetInlineEnd, …): the faces run right to left too.',
        },
        {
          selector: 'JSXAttribute[name.name=/^(ml|mr|pl|pr)$/]',
          message: 'Use Mantine\'s logical spacing props (ms, me, ps, pe): the faces run right to left too.',
        },
        {
          selector: 'Property[key.name="textAlign"] Literal[value=/^(left|right)$/]',
          message: "Use textAlign 'start' or 'end': the faces run right to left too.",
        },
      ],
    },
  },
  {
    files: ['**/*.test.{ts,tsx}'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['scripts/**/*.mjs', '*.js'],
    languageOptions: { globals: globals.node },
  },
);
