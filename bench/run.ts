// `npm run bench`: every benchmark in this folder. Each can also be run alone
// (see BENCHMARKS.md), e.g. `npx tsx bench/rules.ts`.
await import('./rules.js')
