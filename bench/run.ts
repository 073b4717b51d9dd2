// `npm run bench`: every benchmark in this folder, one after the other. Each
// can also be run alone (see BENCHMARKS.md), e.g. `npx tsx bench/check.ts`.
// A missed target makes the run exit 1 (process.exitCode, so every benchmark
// still runs); BENCH_REPORT_ONLY=1 or --report-only reports without failing.
await import('./check.js')
await import('./miss.js')
await import('./groups.js')
await import('./members.js')
await import('./filter.js')
await import('./hierarchy.js')
await import('./moves.js')
await import('./grant-many.js')
await import('./upkeep.js')
await import('./rules.js')
await import('./casbin.js')
await import('./cache.js')
await import('./heartbeat.js')
await import('./replicas.js')
await import('./observability.js')
