// Run after tsc by `npm run build`. The public types are hand-written in
// fastify-plugin.d.ts at the package root, which tsc does not copy; the
// declarations it emits under dist/lib import them as dist/fastify-plugin.js
// (the same relative path as from lib/). This file is that module: it
// re-exports the root one, so there is one copy of the types and of the
// `declare module 'fastify'` augmentation, and `fastify-default-deny/pglite`'s
// declarations resolve.
import { writeFileSync } from 'node:fs'

writeFileSync(new URL('../dist/fastify-plugin.d.ts', import.meta.url), `// The public types are in ../fastify-plugin.d.ts; the declarations under dist/ import them through this file.
export * from '../fastify-plugin.js'
export { default } from '../fastify-plugin.js'
`)
