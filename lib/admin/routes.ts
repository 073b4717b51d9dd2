// The admin page's routes: its static files, public, from memory. The page
// itself holds no privilege: every read and change it makes is a request to
// the grant API carrying the user's own token.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { Asset } from './assets.js'

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  // No string ever reaches an HTML sink: the browser refuses it if one does.
  "require-trusted-types-for 'script'", "trusted-types 'none'"
].join('; ')

const HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin'
}

export interface AdminPageDeps {
  assets: Map<string, Asset>
}

export const adminPageRoutes: FastifyPluginAsync<AdminPageDeps> = async (app, { assets }) => {
  const config = { permission: 'public' as const }
  // Every answer under the prefix, the 404s included, carries the policy.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(HEADERS)
    return payload
  })

  const send = (file: Asset, request: FastifyRequest, reply: FastifyReply) => {
    // Revalidated on every load (the names carry no version), cheaply.
    reply.header('cache-control', 'no-cache').header('etag', file.etag)
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send()
    return reply.type(file.type).send(file.body)
  }

  const index = assets.get('index.html') as Asset
  app.get('/', { config }, async (request, reply) => await send(index, request, reply))
  for (const [name, file] of assets) {
    if (name === 'index.html') continue
    app.get(`/${name}`, { config }, async (request, reply) => await send(file, request, reply))
  }

  app.setNotFoundHandler(async (_request, reply) => {
    return await reply.code(404).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('Not Found')
  })
}
