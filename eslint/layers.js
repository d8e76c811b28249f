// A local ESLint plugin: the import rules of the README's "Architecture", enforced the way VS Code enforces its
// layering by environment (its code-layering and code-import-patterns rules).
//
// - src/core is layered: a layer imports only from itself and the layers to its left (`import type` included: a type
//   shared across layers couples them as much as a value). errors.ts, paths.ts and data.ts are base utilities that
//   every layer may use; they import only each other.
// - Nothing in src/core imports electron, a transport (src/server, src/cli, src/main, src/preload) or the renderer.
// - A transport imports src/core, never another transport (src/main may import src/preload/bridge.ts, src/cli the
//   server it starts) or the renderer.
// - The renderer runs in a browser: what it imports at run time must be platform-free, transitively (no Node
//   built-in, no package outside `browserPackages`). `import type` is erased at build time, so it is allowed there;
//   from src/preload/bridge.ts the renderer may import types only.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'
import ts from 'typescript'

export const LAYERS = ['api', 'audio', 'dsp', 'model', 'analysis', 'live', 'sessions', 'reports', 'backend']
const BASE_UTILITIES = ['errors.ts', 'paths.ts', 'data.ts']
const TRANSPORTS = ['server', 'cli', 'main', 'preload']
const BRIDGE = 'src/preload/bridge.ts'
/** The files a transport may import from another transport. */
// `phonoscope serve` is the CLI command that starts the server
const TRANSPORT_EXCEPTIONS = { 'src/main': [BRIDGE], 'src/cli': ['src/server/server.ts'] }
const LAYER_CHAIN = `layers: ${LAYERS.join(' <- ')}; a layer imports only from those to its left`
const EXTENSIONS = ['', '.ts', '.d.ts', '.vue', '.json', '.js', '.mjs', '/index.ts']

const posix = (path) => path.split(sep).join('/')

/** Where a repository path sits in the architecture; undefined outside the rules (tests, scripts, configs). */
function place(path) {
  const parts = path.split('/')
  if (parts[0] !== 'src') return undefined
  if (parts[1] === 'core') {
    if (parts.length === 3 && BASE_UTILITIES.includes(parts[2])) return { kind: 'base', name: `src/core/${parts[2]}` }
    const index = parts.length > 3 ? LAYERS.indexOf(parts[2]) : -1
    if (index >= 0) return { kind: 'layer', name: `src/core/${parts[2]}`, index }
    return { kind: 'unplaced', name: path }
  }
  if (TRANSPORTS.includes(parts[1])) return { kind: 'transport', name: `src/${parts[1]}` }
  if (parts[1] === 'renderer') return { kind: 'renderer', name: 'src/renderer' }
  return undefined
}

const isCore = (p) => p !== undefined && ['base', 'layer', 'unplaced'].includes(p.kind)

function packageName(specifier) {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/**
 * What an import specifier names: a file of this repository (`file`, relative to root, resolved as the bundlers do,
 * the `@core` alias included), a Node built-in or a package.
 */
function resolveImport(root, fromFile, specifier) {
  const bare = specifier.replace(/\?.*$/, '')
  let target
  if (bare.startsWith('.') || bare.startsWith('/')) target = resolve(dirname(fromFile), bare)
  else if (bare === '@core' || bare.startsWith('@core/')) target = join(root, 'src', 'core', bare.slice(6))
  else if (bare.startsWith('node:') || builtinModules.includes(bare)) return { builtin: bare }
  else return { package: packageName(bare) }
  const found = EXTENSIONS.map((ext) => target + ext).find((path) => existsSync(path) && statSync(path).isFile())
  return { file: found ?? target, path: posix(relative(root, found ?? target)) }
}

/** A file's imports that remain at run time (import type, export type and all-type specifier lists are erased). */
function runtimeImports(source, fileName) {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false)
  const found = []
  const allTypes = (elements) => elements.length > 0 && elements.every((e) => e.isTypeOnly)
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (!clause.name &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            allTypes(clause.namedBindings.elements)))
      if (!typeOnly) found.push(node.moduleSpecifier.text)
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause
      const typeOnly =
        node.isTypeOnly || (clause !== undefined && ts.isNamedExports(clause) && allTypes(clause.elements))
      if (!typeOnly) found.push(node.moduleSpecifier.text)
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      found.push(node.arguments[0].text)
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return found
}

/** Why a resolved import cannot run in a browser, or undefined when it can. */
function importProblem(target, browserPackages) {
  if (target.builtin) return `imports ${target.builtin}`
  if (target.package && !browserPackages.includes(target.package)) return `imports ${target.package}`
  return undefined
}

/**
 * Why a module of this repository cannot run in a browser ("src/core/x.ts imports node:fs", through the chain of
 * modules that leads there), or undefined when it is platform-free. Cached per file and modification time.
 */
function platformProblem(root, file, browserPackages, cache, visiting = new Set()) {
  if (!existsSync(file) || /\.(json|d\.ts)$/.test(file)) return undefined
  const mtime = statSync(file).mtimeMs
  const cached = cache.get(file)
  if (cached && cached.mtime === mtime) return cached.problem
  if (visiting.has(file)) return undefined // a cycle adds nothing: its other modules are checked on their own
  visiting.add(file)
  const name = posix(relative(root, file))
  let problem
  for (const specifier of runtimeImports(readFileSync(file, 'utf8'), file)) {
    const target = resolveImport(root, file, specifier)
    const direct = importProblem(target, browserPackages)
    if (direct) problem = `${name} ${direct}`
    else if (target.file) {
      const deeper = platformProblem(root, target.file, browserPackages, cache, visiting)
      if (deeper) problem = `${name} -> ${deeper}`
    }
    if (problem) break
  }
  visiting.delete(file)
  cache.set(file, { mtime, problem })
  return problem
}

/** The layering problem of one import, or undefined. */
function layeringProblem(from, target, typeOnly, context) {
  const to = target.file ? place(target.path) : undefined
  if (isCore(from)) {
    if (target.package === 'electron') return `${from.name} may not import electron (src/core is Electron-free)`
    if (to && !isCore(to)) return `${from.name} may not import ${to.name} (src/core is below the transports and the UI)`
    if (!to) return undefined
    // files in no layer are reported on themselves (Program), not again where they import each other
    if (to.kind === 'unplaced')
      return from.kind === 'unplaced' ? undefined : `${from.name} may not import ${to.name}: it is in no layer`
    if (from.kind === 'base' && to.kind === 'layer')
      return `${from.name} may not import ${to.name} (base utilities import only errors.ts, paths.ts, data.ts)`
    if (from.kind === 'layer' && to.kind === 'layer' && to.index > from.index)
      return `${from.name} may not import ${to.name} (${LAYER_CHAIN})`
    return undefined
  }
  if (from.kind === 'transport') {
    if (to?.kind === 'renderer') return `${from.name} may not import src/renderer`
    const excepted = TRANSPORT_EXCEPTIONS[from.name]?.includes(target.path)
    if (to?.kind === 'transport' && to.name !== from.name && !excepted)
      return `${from.name} may not import ${to.name} (transports import src/core, never each other; src/main may import ${BRIDGE})`
    return undefined
  }
  // the renderer
  if (to?.kind === 'transport') {
    if (target.path === BRIDGE)
      return typeOnly ? undefined : `src/renderer may import only types from ${BRIDGE} (use \`import type\`)`
    return `src/renderer may not import ${to.name}`
  }
  if (typeOnly) return undefined
  const direct = importProblem(target, context.browserPackages)
  if (direct) return `src/renderer runs in a browser and may not import ${target.builtin ?? target.package}`
  if (isCore(to)) {
    const problem = platformProblem(context.root, target.file, context.browserPackages, context.cache)
    if (problem)
      return `src/renderer may import only platform-free modules of src/core: ${problem} (use \`import type\` for types)`
  }
  return undefined
}

const defaultRoot = resolve(import.meta.dirname, '..')
const caches = new Map()

const rule = {
  meta: {
    type: 'problem',
    docs: { description: "imports follow the README's layers (src/core layers, transports, a platform-free renderer)" },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          browserPackages: { type: 'array', items: { type: 'string' } },
        },
        additionalProperties: false,
      },
    ],
    messages: { layers: '{{problem}}' },
  },
  create(context) {
    const options = context.options[0] ?? {}
    const root = options.root ?? defaultRoot
    const file = context.filename
    const from = place(posix(relative(root, file)))
    if (!from) return {}
    if (!caches.has(root)) caches.set(root, new Map())
    const settings = { root, browserPackages: options.browserPackages ?? [], cache: caches.get(root) }

    const check = (node, source, typeOnly) => {
      if (typeof source?.value !== 'string') return
      const problem = layeringProblem(from, resolveImport(root, file, source.value), typeOnly, settings)
      if (problem) context.report({ node, messageId: 'layers', data: { problem } })
    }
    const allTypes = (specifiers) =>
      specifiers.length > 0 && specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type')
    return {
      Program(node) {
        if (from.kind === 'unplaced')
          context.report({
            node,
            messageId: 'layers',
            data: { problem: `${from.name} is in no layer (${LAYER_CHAIN})` },
          })
      },
      ImportDeclaration: (node) => check(node, node.source, node.importKind === 'type' || allTypes(node.specifiers)),
      ExportNamedDeclaration: (node) =>
        node.source && check(node, node.source, node.exportKind === 'type' || allTypes(node.specifiers)),
      ExportAllDeclaration: (node) => check(node, node.source, node.exportKind === 'type'),
      ImportExpression: (node) => check(node, node.source, false),
    }
  },
}

export default { meta: { name: 'phonoscope-layers' }, rules: { layers: rule } }
