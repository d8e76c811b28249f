// Types of the local plugin for the TypeScript that imports it (test/unit/lint-layers.test.ts).
import type { Rule } from 'eslint'

declare const plugin: { meta: { name: string }; rules: { layers: Rule.RuleModule } }
export default plugin
export declare const LAYERS: readonly string[]
