// npm start: the example API on the embedded database (or DATABASE_URL).
import { randomBytes } from 'node:crypto'
import { DEFAULT_PGLITE_DIR, openDatabase } from '../lib/store/pglite.js'
import { ADMIN_PAGE, buildExample, seedExample } from './app.js'

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
const url = process.env.DATABASE_URL
const dataDir = process.env.PGLITE_DIR ?? DEFAULT_PGLITE_DIR
// A fresh secret per run unless one is given: tokens printed below last for this run.
const secret = process.env.JWT_SECRET ?? randomBytes(32).toString('base64url')

const db = await openDatabase(url, dataDir).catch((err: { code?: unknown, message: string }) => {
  // Another process has this embedded database: say who, not a stack trace.
  if (err.code !== 'FST_DEFAULT_DENY_DATABASE_LOCKED') throw err
  console.error(`${err.message}\nTo run another example beside it, give that one a PGLITE_DIR of its own.`)
  process.exit(1)
})

// At info the plugin logs each denial with what was asked for, so a 403 in
// the demo says why (requests themselves are not logged, see app.ts). The
// log goes to standard error, so the banner below stays whole on standard
// output (on Linux both are written synchronously, in order).
const app = await buildExample({ db, secret, logger: { level: process.env.LOG_LEVEL ?? 'info', stream: process.stderr } })
app.addHook('onClose', async () => { await db.destroy() })
// Before the banner: whoever reads "Press Ctrl-C" may signal at once, and a
// signal with no listener yet would end the process without closing.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}
await seedExample(app, db)
const address = await app.listen({ port, host })

const tokens = {
  ALICE: app.jwt.sign({ sub: 'alice', groups: ['staff'] }),
  BOB: app.jwt.sign({ sub: 'bob', groups: ['staff'] }),
  CAROL: app.jwt.sign({ sub: 'carol' }),
  DAVE: app.jwt.sign({ sub: 'dave', groups: ['handbook-team'] }),
  ADMIN: app.jwt.sign({ sub: 'admin', admin: true })
}
// One write: nothing else can land in the middle of it.
process.stdout.write(`fastify-default-deny example listening at ${address}
admin page: ${address}${ADMIN_PAGE}/ (paste ALICE's token below to manage "welcome")
database: ${url !== undefined && url !== '' ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${dataDir}`}
log: standard error (LOG_LEVEL=${process.env.LOG_LEVEL ?? 'info'})

Demo tokens, valid for one hour. alice owns "welcome", bob is in staff (may read it),
carol holds no grant, admin is a superuser. alice also owns the project "handbook"; its
folder "policies" holds the document "leave", and dave's group handbook-team may read
the project, so dave reads "leave" without a grant on it. Paste these into another shell:

${Object.entries(tokens).map(([name, token]) => `export ${name}=${token}`).join('\n')}
export API=${address}

Then try:
  curl -i $API/documents/welcome -H "authorization: Bearer $BOB"      # 200: staff may read
  curl -i "$API/documents?limit=10" -H "authorization: Bearer $BOB"   # the documents bob may read, with a total
  curl -i $API/documents/welcome -H "authorization: Bearer $CAROL"    # 403: no grant
  curl -i $API/documents/welcome                                      # 403: anonymous holds nothing
  curl -i -X PUT $API/documents/welcome -H "authorization: Bearer $BOB" \\
       -H 'content-type: application/json' -d '{"title":"x","body":"y"}'   # 403: read is not edit
  curl -i -X POST $API/documents -H "authorization: Bearer $CAROL" \\
       -H 'content-type: application/json' -d '{"title":"Mine","body":"carol owns this"}'   # 201
  curl -i $API/forgotten -H "authorization: Bearer $ADMIN"           # 403: the route has no annotation
  curl -i -X POST $API/permissions/document/welcome/grants -H "authorization: Bearer $ALICE" \\
       -H 'content-type: application/json' -d '{"grantee":{"kind":"user","id":"carol"},"privilege":"read"}'   # 201: alice shares
  curl -i $API/documents/welcome -H "authorization: Bearer $CAROL"    # 200 now
  curl -i -X POST $API/permissions/document/welcome/grants -H "authorization: Bearer $BOB" \\
       -H 'content-type: application/json' -d '{"grantee":{"kind":"user","id":"bob"},"privilege":"edit"}'     # 403: bob does not manage it
  curl -i "$API/permissions/document/welcome/explain?kind=user&principal=bob&groups=staff&privilege=edit" \\
       -H "authorization: Bearer $ALICE"                               # why bob cannot edit
  curl -i $API/permissions/document/welcome/audit -H "authorization: Bearer $ALICE"   # who changed what
  curl -i $API/documents/leave -H "authorization: Bearer $DAVE"       # 200: read on project handbook reaches it
  curl -i $API/documents/leave -H "authorization: Bearer $BOB"        # 403: staff holds nothing on the handbook
  curl -i $API/permissions/document/leave/ancestors -H "authorization: Bearer $ALICE"   # folder policies, project handbook
  curl -i "$API/permissions/document/leave/explain?kind=user&principal=dave&groups=handbook-team&privilege=read" \
       -H "authorization: Bearer $ALICE"                               # the path: through folder policies
Press Ctrl-C to stop.
`)
