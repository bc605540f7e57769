/**
 * Layering rules, checked by `npm run lint:deps` (depcruise handlers lib scripts).
 *
 *   handlers/            -> lib/http, lib/api           (Lambda entry points)
 *   lib/http/            -> route middleware and responses
 *   lib/api/             -> use cases; no HTTP
 *   lib/registration/    -> the domain rules (decide.ts is pure: no store)
 *   lib/lifecycle/       -> the rules of changes after registration (update, identifiers, erase)
 *   lib/*.ts             -> the domain model and shared helpers
 *   lib/store/           -> DynamoDB; knows nothing of the layers above it
 *
 * Type-only imports count too (tsPreCompilationDeps), so a layer cannot lean on another's types.
 */

/** The domain model and rules: top-level lib/*.ts files and lib/registration/. */
const DOMAIN = ['^lib/[^/]+\\.[cm]?[jt]s$', '^lib/registration/', '^lib/lifecycle/'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules must not depend on each other in a cycle, directly or through others.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'store-not-to-upper-layers',
      severity: 'error',
      comment: 'lib/store is the bottom layer: it must not import lib/registration, lib/api or lib/http.',
      from: { path: '^lib/store/' },
      to: { path: '^lib/(registration|lifecycle|api|http|webhooks|events|ports)/' },
    },
    {
      name: 'handlers-only-to-entry-layers',
      severity: 'error',
      comment: 'handlers/ are a few lines: they call lib/http and lib/api (or a worker of lib/import), never the store or the rules.',
      from: { path: '^handlers/' },
      to: { path: '^lib/(store|registration|lifecycle|webhooks|ports|events)/' },
    },
    {
      name: 'webhook-rules-not-to-store',
      severity: 'error',
      comment: "Signing, the target policy, the schedule and one delivery are pure of the table: only the sender's ports read it.",
      from: { path: '^lib/webhooks/(signature|target|schedule|deliver)\\.ts$' },
      to: { path: '^lib/store/' },
    },
    {
      name: 'lib-not-to-handlers',
      severity: 'error',
      comment: 'handlers/ are entry points; nothing in lib/ may import them.',
      from: { path: '^lib/' },
      to: { path: '^handlers/' },
    },
    {
      name: 'api-not-to-http',
      severity: 'error',
      comment: 'lib/api holds the use cases, independent of HTTP: lib/http and handlers/ adapt them.',
      from: { path: '^lib/api/' },
      to: { path: '^lib/http/' },
    },
    {
      name: 'domain-not-to-api-or-http',
      severity: 'error',
      comment: 'The domain model (lib/*.ts) and rules (lib/registration) must not import lib/api or lib/http.',
      from: { path: DOMAIN },
      to: { path: '^lib/(api|http)/' },
    },
    {
      name: 'model-at-the-bottom',
      severity: 'error',
      comment: 'The domain model (lib/customer.ts, errors, vocabulary, org) sits below the rules and the store: it imports neither.',
      from: { path: '^lib/(customer|errors|vocabulary|org|pointer|numbers|dates)\\.ts$' },
      to: { path: ['^lib/(store|registration|api|http|schemas)/', '^lib/(auth|rateLimit|idempotency)\\.ts$'] },
    },
    {
      name: 'decide-not-to-store',
      severity: 'error',
      comment: 'lib/registration/decide.ts is a pure function of the registration and known facts: no lib/store.',
      from: { path: '^lib/registration/decide\\.ts$' },
      to: { path: '^lib/store/' },
    },
    {
      name: 'change-rules-not-to-store',
      severity: 'error',
      comment: 'The rules of an update and an identifier change are pure functions of the request and the customer read: no lib/store.',
      from: { path: '^lib/lifecycle/(update|identifierChange|namedProfile)\\.ts$' },
      to: { path: '^lib/store/' },
    },
    {
      name: 'no-orphans',
      severity: 'warn',
      comment: 'A module nothing imports and that imports nothing: dead code, or an entry point to list here.',
      from: {
        orphan: true,
        pathNot: [
          '(^|/)[.][^/]+[.](?:js|cjs|mjs|ts|cts|mts|json)$', // dot files
          '[.]d[.][cm]?ts$', // declaration files
          '(^|/)tsconfig[.]json$',
          '(^|/)(?:jest|eslint|knip)[.]config[.](?:js|cjs|mjs|ts)$',
          '^scripts/serverless/[^/]+[.]js$', // plugins and variable sources named in serverless.yml
        ],
      },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to no file or installed package.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['^node_modules/', '^[.](?:esbuild|serverless|dynamodb|test-results)/', '^coverage/', '^bench/[.]out/'] },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // tsconfig.json has allowJs: so .js files (the generated validators, the Serverless plugin) resolve too.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
