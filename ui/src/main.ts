// The admin page: the token, the navigation between views, and the views.
import { loadConfig, session, tokenFromHost, tokenSubject } from './api.js'
import { replace } from './dom.js'
import { instantText } from './format.js'
import { announce, byId, clearMessages, fail } from './page.js'
import { accessView } from './views/access.js'
import { auditView } from './views/audit.js'
import { browseView } from './views/browse.js'
import { explainView } from './views/explain.js'
import { groupsView } from './views/groups.js'
import { resourceView } from './views/resource.js'
import { typesView } from './views/types.js'

const VIEWS: Record<string, { title: string, render: (params: URLSearchParams) => HTMLElement }> = {
  resource: { title: 'Resource', render: resourceView },
  browse: { title: 'Browse', render: browseView },
  access: { title: 'Access', render: accessView },
  types: { title: 'Type-level grants', render: typesView },
  explain: { title: 'Why?', render: explainView },
  audit: { title: 'Audit trail', render: auditView },
  groups: { title: 'Groups', render: groupsView }
}

function route (): void {
  const match = /^#\/([a-z]+)(?:\?(.*))?$/.exec(location.hash)
  // Other hashes (the skip link's #main) are not views.
  if (match === null && location.hash !== '' && location.hash !== '#/') return
  const name = match?.[1] !== undefined && VIEWS[match[1]] !== undefined ? match[1] : 'resource'
  const view = VIEWS[name] as (typeof VIEWS)[string]
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (link.getAttribute('href') === `#/${name}`) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  document.title = `${view.title} · Permissions`
  // What the last view said (a success, a refusal) was about it, not this one.
  clearMessages()
  const main = byId('main')
  replace(main, view.render(new URLSearchParams(match?.[2] ?? '')))
  main.querySelector<HTMLElement>('h2')?.focus()
}

function showToken (): void {
  const state = byId('token-state')
  if (session.token === null) {
    replace(state, 'No token: paste one to start.')
    return
  }
  const { sub, exp } = tokenSubject(session.token)
  const who = sub === null ? 'a token' : `a token for ${sub}`
  const until = exp === null ? '' : `, which expires ${instantText(new Date(exp * 1000))}`
  replace(state, `Using ${who}${until}${session.source === 'host' ? ', from the application' : ''}.`)
}

async function start (): Promise<void> {
  const base = document.documentElement.dataset.base ?? ''
  try {
    await loadConfig(base)
  } catch {
    fail('The page could not load its settings from the server.')
    return
  }
  if (!session.config.groups) byId('nav-groups').hidden = true

  const tokenForm = byId('token-form') as HTMLFormElement
  const tokenInput = byId('token') as HTMLInputElement
  tokenForm.addEventListener('submit', (event) => {
    event.preventDefault()
    const value = tokenInput.value.trim().replace(/^Bearer\s+/i, '')
    if (value === '') {
      fail('Paste a token first.')
      return
    }
    session.token = value
    session.source = 'pasted'
    tokenInput.value = ''
    showToken()
    announce('Token set. It stays in this tab\'s memory only, is sent to the permission API alone, and is forgotten when the page reloads.')
    route()
  })
  byId('forget').addEventListener('click', () => {
    session.token = null
    session.source = null
    showToken()
    announce('Token forgotten.')
  })

  if (await tokenFromHost()) announce('Signed in through the application.')
  showToken()
  window.addEventListener('hashchange', route)
  route()
}

void start()
