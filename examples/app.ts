// The example API: documents that only their owner and the people they are
// shared with can read, edit or delete; projects hold folders, folders hold
// documents, and a grant on a project reaches everything inside it. `npm
// start` serves it.
import { randomUUID } from 'node:crypto'
import jwt from '@fastify/jwt'
import Fastify, { LogController, type FastifyServerOptions } from 'fastify'
import { Migrator, type Kysely } from 'kysely'
import defaultDeny from '../lib/index.js'

interface ExampleDatabase {
  example_document: { id: string, title: string, body: string, folder_id: string | null }
  example_project: { id: string, name: string }
  example_folder: { id: string, name: string, project_id: string }
}

// The host's own migrations, in Kysely's default migration table: the plugin's
// tables and migration history live beside them without clashing.
const hostMigrations = {
  '0001_documents': {
    async up (db: Kysely<any>) {
      await db.schema.createTable('example_document').ifNotExists()
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('title', 'text', (col) => col.notNull())
        .addColumn('body', 'text', (col) => col.notNull())
        .execute()
    }
  },
  '0002_projects_and_folders': {
    async up (db: Kysely<any>) {
      await db.schema.createTable('example_project').ifNotExists()
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('name', 'text', (col) => col.notNull())
        .execute()
      await db.schema.createTable('example_folder').ifNotExists()
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('project_id', 'text', (col) => col.notNull().references('example_project.id'))
        .execute()
      await db.schema.alterTable('example_document').addColumn('folder_id', 'text', (col) => col.references('example_folder.id')).execute()
    }
  }
}

/** Which type may live in which: a grant on a project counts on its folders and on the documents in them. */
export const EXAMPLE_HIERARCHY = {
  types: {
    folder: { parents: ['project'] },
    document: { parents: ['folder'] }
  }
}

const documentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'body'],
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 200 },
    body: { type: 'string', maxLength: 100_000 },
    folder: { type: 'string', minLength: 1, maxLength: 256 }
  }
} as const

const nameSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 } }
} as const

/** Where the example serves the admin page. */
export const ADMIN_PAGE = '/permissions/ui'

export interface ExampleOptions {
  db: Kysely<any>
  secret: string
  /** Where both the example's and the plugin's tables live. */
  schema?: string
  logger?: FastifyServerOptions['logger']
}

export async function buildExample ({ db: root, secret, schema = 'public', logger = false }: ExampleOptions) {
  const db = root.withSchema(schema)
  const { error } = await new Migrator({
    db, migrationTableSchema: schema, provider: { getMigrations: async () => hostMigrations }
  }).migrateToLatest()
  if (error !== undefined) throw error
  const documents = db as Kysely<ExampleDatabase>

  // Strict bodies: no type coercion, no extra properties.
  // Requests are not logged one by one: what the log shows is the plugin's word on each denial.
  const app = Fastify({ logger, logController: new LogController({ disableRequestLogging: true }), ajv: { customOptions: { coerceTypes: false, removeAdditional: false } } })
  await app.register(jwt, { secret, sign: { expiresIn: '1h' }, verify: { algorithms: ['HS256'] } })
  // The admin page: people who manage access use it instead of curl, with their own token.
  await app.register(defaultDeny, { db: root, schema, superuserClaim: 'admin', adminPage: { prefix: ADMIN_PAGE }, hierarchy: EXAMPLE_HIERARCHY })

  app.get('/health', { config: { permission: 'public' } }, async () => ({ status: 'ok' }))

  // Anyone signed in may create a project, and owns it.
  app.post('/projects', {
    config: { permission: 'authenticated' },
    schema: { body: nameSchema }
  }, async (request, reply) => {
    const { name } = request.body as { name: string }
    const id = randomUUID()
    await root.transaction().execute(async (trx) => {
      await (trx.withSchema(schema) as Kysely<ExampleDatabase>).insertInto('example_project').values({ id, name }).execute()
      await app.permissions.setOwner({ resource: 'project', id, owner: request.principal?.id as string }, { db: trx })
    })
    return reply.code(201).send({ id, name })
  })

  // A folder is made inside a project by whoever may edit the project; where
  // it lives is recorded in the same transaction as the row.
  app.post('/projects/:id/folders', {
    config: { permission: { resource: 'project', privilege: 'edit' } },
    schema: { body: nameSchema }
  }, async (request, reply) => {
    const { id: project } = request.params as { id: string }
    const { name } = request.body as { name: string }
    const id = randomUUID()
    await root.transaction().execute(async (trx) => {
      const found = await (trx.withSchema(schema) as Kysely<ExampleDatabase>).selectFrom('example_project').select('id').where('id', '=', project).executeTakeFirst()
      if (found === undefined) throw app.permissions.notFound()
      await (trx.withSchema(schema) as Kysely<ExampleDatabase>).insertInto('example_folder').values({ id, name, project_id: project }).execute()
      await app.permissions.setParent({ resource: 'folder', id }, { resource: 'project', id: project }, { db: trx })
    })
    return reply.code(201).send({ id, name, project })
  })

  // Anyone signed in may create a document; its creator becomes its owner in
  // the same transaction, so there is never a document without an owner. In
  // a folder (which needs edit on it, inherited from its project counts), the
  // document is placed under it in that transaction too.
  app.post('/documents', {
    config: { permission: 'authenticated' },
    schema: { body: documentSchema }
  }, async (request, reply) => {
    const { title, body, folder = null } = request.body as { title: string, body: string, folder?: string }
    if (folder !== null && !await app.permissions.check(request.principal!, { resource: 'folder', id: folder, privilege: 'edit' })) {
      throw app.permissions.notFound()
    }
    const id = randomUUID()
    await root.transaction().execute(async (trx) => {
      await (trx.withSchema(schema) as Kysely<ExampleDatabase>).insertInto('example_document').values({ id, title, body, folder_id: folder }).execute()
      await app.permissions.setOwner({ resource: 'document', id, owner: request.principal?.id as string }, { db: trx })
      if (folder !== null) await app.permissions.setParent({ resource: 'document', id }, { resource: 'folder', id: folder }, { db: trx })
    })
    return reply.code(201).send({ id, title, body, folder })
  })

  // What the caller may read, a keyset page at a time, with the total: the
  // permission is one condition inside this query, so PostgreSQL pages,
  // sorts and counts the readable rows itself.
  app.get('/documents', {
    config: { permission: 'authenticated' },
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { after: { type: 'string', maxLength: 256 }, limit: { type: 'string', pattern: '^(?:[1-9]|[1-4][0-9]|50)$' } }
      }
    }
  }, async (request) => {
    const { after = '', limit = '20' } = request.query as { after?: string, limit?: string }
    const readable = app.permissions.filter(request.principal!, { resource: 'document', privilege: 'read' }, 'example_document.id')
    const [rows, { total }] = await Promise.all([
      documents.selectFrom('example_document').select(['id', 'title']).where(readable).where('id', '>', after)
        .orderBy('id').limit(Number(limit)).execute(),
      documents.selectFrom('example_document').select((eb) => eb.fn.countAll<number>().as('total')).where(readable).executeTakeFirstOrThrow()
    ])
    const next = rows.length === Number(limit) ? rows[rows.length - 1]?.id ?? null : null
    return { documents: rows, next, total: Number(total) }
  })

  app.get('/documents/:id', {
    config: { permission: { resource: 'document', privilege: 'read' } }
  }, async (request) => {
    const { id } = request.params as { id: string }
    const document = await documents.selectFrom('example_document').selectAll().where('id', '=', id).executeTakeFirst()
    if (document === undefined) throw app.permissions.notFound()
    return document
  })

  app.put('/documents/:id', {
    config: { permission: { resource: 'document', privilege: 'edit' } },
    schema: { body: documentSchema }
  }, async (request) => {
    const { id } = request.params as { id: string }
    const { title, body } = request.body as { title: string, body: string }
    const updated = await documents.updateTable('example_document').set({ title, body }).where('id', '=', id)
      .returningAll().executeTakeFirst()
    if (updated === undefined) throw app.permissions.notFound()
    return updated
  })

  app.delete('/documents/:id', {
    config: { permission: { resource: 'document', privilege: 'delete' } }
  }, async (request, reply) => {
    const { id } = request.params as { id: string }
    await root.transaction().execute(async (trx) => {
      await (trx.withSchema(schema) as Kysely<ExampleDatabase>).deleteFrom('example_document').where('id', '=', id).execute()
      await app.permissions.forgetResource({ resource: 'document', id }, { db: trx })
    })
    return reply.code(204).send()
  })

  // No annotation: denied, whoever asks. Shown here on purpose.
  app.get('/forgotten', async () => ({ secret: 'never served' }))

  return app
}

export type ExampleApp = Awaited<ReturnType<typeof buildExample>>

/**
 * The demo's starting point, on every start: the `welcome` document as
 * `npm start` describes it (owned by alice, readable by staff, nothing else),
 * and the `handbook` project (owned by alice, readable by the
 * handbook-team group) with its `policies` folder and the `leave` document
 * in it, whatever an earlier run shared or changed, so that what it prints
 * is true.
 */
export async function seedExample (app: ExampleApp, db: Kysely<any>, schema = 'public') {
  const documents = db.withSchema(schema) as Kysely<ExampleDatabase>
  const welcome = { id: 'welcome', title: 'Welcome', body: 'Only alice, staff and admins can read this.' }
  await documents.insertInto('example_document').values(welcome)
    .onConflict((oc) => oc.column('id').doUpdateSet({ title: welcome.title, body: welcome.body }))
    .execute()
  await app.permissions.forgetResource({ resource: 'document', id: 'welcome' }, { actor: 'example', reason: 'demo reset on start' })
  await app.permissions.setOwner({ resource: 'document', id: 'welcome', owner: 'alice' })
  await app.permissions.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'welcome', privilege: 'read', grantedBy: 'alice' })

  const projects = db.withSchema(schema) as Kysely<ExampleDatabase>
  await projects.insertInto('example_project').values({ id: 'handbook', name: 'Handbook' }).onConflict((oc) => oc.column('id').doNothing()).execute()
  await projects.insertInto('example_folder').values({ id: 'policies', name: 'Policies', project_id: 'handbook' }).onConflict((oc) => oc.column('id').doNothing()).execute()
  const leave = { id: 'leave', title: 'Leave policy', body: 'Readable by everyone the handbook project is shared with.', folder_id: 'policies' }
  await documents.insertInto('example_document').values(leave)
    .onConflict((oc) => oc.column('id').doUpdateSet({ title: leave.title, body: leave.body, folder_id: leave.folder_id }))
    .execute()
  for (const [resource, id] of [['document', 'leave'], ['folder', 'policies'], ['project', 'handbook']]) {
    await app.permissions.forgetResource({ resource: resource as string, id: id as string }, { actor: 'example', reason: 'demo reset on start' })
  }
  await db.transaction().execute(async (trx) => {
    await app.permissions.setOwner({ resource: 'project', id: 'handbook', owner: 'alice' }, { db: trx })
    await app.permissions.setParent({ resource: 'folder', id: 'policies' }, { resource: 'project', id: 'handbook' }, { db: trx })
    await app.permissions.setParent({ resource: 'document', id: 'leave' }, { resource: 'folder', id: 'policies' }, { db: trx })
    await app.permissions.grant({ grantee: { kind: 'group', id: 'handbook-team' }, resource: 'project', id: 'handbook', privilege: 'read', grantedBy: 'alice' }, { db: trx })
  })
}
