// The LIKE pattern of browse's id prefix: every %, _ and \ the client sent
// is escaped, so the prefix matches ids that start with exactly that text.
import t from 'tap'
import { prefixPattern } from '../../lib/store/browse.js'
import { groupPrincipal } from '../../lib/decision/principal.js'

t.test('prefixPattern escapes the LIKE metacharacters and ends with one %', async (t) => {
  t.equal(prefixPattern(''), '%', 'no prefix: everything')
  t.equal(prefixPattern('q3'), 'q3%')
  t.equal(prefixPattern('a%b'), 'a\\%b%')
  t.equal(prefixPattern('a_b'), 'a\\_b%')
  t.equal(prefixPattern('a\\b'), 'a\\\\b%')
  t.equal(prefixPattern('\\%_'), '\\\\\\%\\_%')
  t.equal(prefixPattern("' or 1=1 --"), "' or 1=1 --%", 'quotes are for the bound parameter, not the pattern')
})

t.test('groupPrincipal: the group as its one group, no user id, no superuser', async (t) => {
  const p = groupPrincipal('staff')
  t.same({ ...p, groups: [...p.groups] }, { kind: 'anonymous', id: null, groups: ['staff'], superuser: false, claims: null })
  t.ok(Object.isFrozen(p) && Object.isFrozen(p.groups))
})
