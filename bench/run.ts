// `npm run bench`: every benchmark in this folder, one after the other. Each
// can also be run alone (see BENCHMARKS.md), e.g. `npx tsx bench/check.ts`.
await import('./check.js')
await import('./groups.js')
await import('./members.js')
await import('./filter.js')
await import('./hierarchy.js')
await import('./rules.js')
await import('./casbin.js')
await import('./cache.js')
await import('./heartbeat.js')
await import('./replicas.js')
