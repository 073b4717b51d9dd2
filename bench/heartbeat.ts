// What the decision cache's heartbeat costs: the LISTEN connection is probed
// with `select 1` four times per `heartbeat`, so the cost per second of a
// setting is the cost of one probe times 4000 / heartbeat. One probe's round
// trip and the client's CPU for it are measured on a connection of its own,
// as the listener's is.
//   DATABASE_URL=postgres://… npx tsx bench/heartbeat.ts     (PostgreSQL only)
import pg from 'pg'

const url = process.env.DATABASE_URL
if (url === undefined || url === '') {
  console.log('bench/heartbeat.ts: the heartbeat probes a PostgreSQL connection; set DATABASE_URL to run it')
} else {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  for (let i = 0; i < 500; i++) await client.query('select 1')
  const probes = 5000
  const cpu = process.cpuUsage()
  const started = performance.now()
  for (let i = 0; i < probes; i++) await client.query('select 1')
  const wallUs = (performance.now() - started) * 1000 / probes
  const used = process.cpuUsage(cpu)
  const clientUs = (used.user + used.system) / probes
  await client.end()
  console.log(`heartbeat probe: ${wallUs.toFixed(0)} µs round trip, ${clientUs.toFixed(0)} µs of client CPU (${probes} probes)`)
  for (const heartbeat of [100, 500, 2000, 5000]) {
    const perSecond = 4000 / heartbeat
    console.log(`  heartbeat ${heartbeat} ms: ${perSecond} probes/s, ${(perSecond * wallUs / 1000).toFixed(2)} ms of round trips and ${(perSecond * clientUs / 1000).toFixed(2)} ms of client CPU per second (${(perSecond * wallUs / 10_000).toFixed(3)}% of a core at most)`)
  }
}
