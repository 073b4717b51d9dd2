// Moving a resource in its tree (the use case behind setParent): the
// placement checked against whole paths, the move and its audit entry in one
// transaction, then, outside a host transaction, the paths below the moved
// resource rewritten in steps of their own (see hierarchy.moveStep).
import type { WriteContext } from '../store/audit.js'
import type { TreeStore } from '../store/tree.js'
import { codes, invalidInput } from '../errors.js'
import type { HierarchySettings } from '../options/index.js'
import type { Caller, ChangeRunner, Instance, Outcome } from './runner.js'
import type { Fail } from './validation.js'

/** What a move needs: the runner of changes, the tree's store, the option, and how many resources a step rewrites. */
export interface Mover {
  readonly runner: ChangeRunner
  readonly tree: TreeStore
  readonly hierarchy: HierarchySettings
  readonly moveStep: number
}

/** The service API's refusal of a move: FST_DEFAULT_DENY_INVALID_GRANT with `error.field`. */
export const refuseMove: Fail = (message, field) => {
  throw invalidInput(new codes.FST_DEFAULT_DENY_INVALID_GRANT(message), { field })
}

const named = (ref: Instance) => `${ref.resource} ${JSON.stringify(ref.id)}`

/**
 * Places `child` under `parent` (null: no parent), as the `hierarchy` option
 * allows; see GrantService.setParent.
 */
export async function moveResource (
  mover: Mover, caller: Caller, child: Instance, parent: Instance | null, context: WriteContext, fail: Fail
): Promise<Outcome<{ parent: Instance | null, before: Instance | null }>> {
  const { runner, tree, hierarchy, moveStep } = mover
  if (parent !== null) {
    const allowed = hierarchy.parents.get(child.resource)
    if (allowed === undefined) {
      const children = [...hierarchy.parents.keys()].join(', ')
      return fail(`a ${child.resource} cannot have a parent: the hierarchy option gives parents to ${children}`, '/resource')
    }
    if (!allowed.has(parent.resource)) {
      return fail(`a ${child.resource} may be placed under ${[...allowed.keys()].join(', ')}, not under a ${parent.resource}`, '/parent/resource')
    }
  }
  const refs = parent === null ? [child] : [child, parent]
  // Inside a host transaction the move commits with it, whole; otherwise
  // the paths below the child are rewritten in steps after it commits.
  const deferred = !(caller.kind === 'trusted' && caller.db?.isTransaction === true)
  // A move another change left unfinished is finished first, on its own,
  // so that even a move refused below leaves it finished.
  if (deferred) await runner.step(caller, async (trx) => await tree.settle(trx))
  let moved = false
  return await runner.run('set_parent', caller, refs, async (trx) => {
    await tree.lock(trx)
    // What the placement is checked against must be whole paths.
    await tree.settle(trx)
    if (parent !== null) {
      const { cycle, depth } = await tree.placement(trx, child, parent)
      if (cycle) fail(`${named(child)} cannot be placed under ${named(parent)}: it would be its own ancestor`, '/parent')
      if (depth > hierarchy.maxDepth) {
        fail(`placing ${named(child)} under ${named(parent)} would make a path ${depth} levels deep; the hierarchy allows ${hierarchy.maxDepth} (maxDepth)`, '/parent')
      }
    }
    const done = await tree.setParent(trx, child, parent, context, deferred)
    moved = done.moved
    return { parent, before: done.before }
  }, async () => {
    // A failed step leaves the move recorded: the next change of the tree,
    // or the plugin's next start, finishes it; until then the resources not
    // reached yet decide as before the move.
    let after: [string, string] | null = null
    while (moved) {
      after = await runner.step(caller, async (trx) => await tree.step(trx, child, after, moveStep))
      moved = after !== null
      // The paths of at most moveStep resources, rewritten: what the embedded upkeep counts.
      runner.changed()?.rows?.(moveStep)
    }
  })
}
