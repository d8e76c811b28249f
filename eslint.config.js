import js from '@eslint/js'
import pluginVue from 'eslint-plugin-vue'
import { defineConfig, globalIgnores } from 'eslint/config'
import globals from 'globals'
import tseslint from 'typescript-eslint'
import layers from './eslint/layers.js'

export default defineConfig(
  globalIgnores([
    'out/',
    'dist/',
    'node_modules/',
    'coverage/',
    'test-results/',
    'training/.venv/',
    'training/cache/',
    'training/runs/',
    '**/*.min.js',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  pluginVue.configs['flat/recommended'],
  // Prettier owns formatting: drop eslint-plugin-vue's layout rules.
  pluginVue.configs['no-layout-rules'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // the README's layers; browserPackages: the dependencies that run in a browser (what the renderer may load)
    files: ['src/**/*.{ts,vue,js,mjs}'],
    plugins: { phonoscope: layers },
    rules: {
      'phonoscope/layers': [
        'error',
        { browserPackages: ['vue', 'chart.js', 'vue-chartjs', 'fft.js', '@alexanderolsen/libsamplerate-js'] },
      ],
    },
  },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    ignores: ['src/renderer/**'],
    languageOptions: { globals: globals.node },
  },
)
