import safeRegex from 'safe-regex2'

// Patterns come from configuration but run against attacker-chosen input on
// V8's backtracking engine. safe-regex2 only catches nested quantifiers
// (`(a+)+`); measured on Node 20, `(a|a)*` took 9 s on 29 characters and
// `a*a*a*a*b` 38 s on 1024. So, on top of safe-regex2:
// - no repeated group may contain an alternation (exponential);
// - at most MAX_UNBOUNDED unbounded quantifiers (polynomial, degree = count);
// - at most MAX_REPETITIONS quantifiers of any kind (`a?a?a?…aaa`);
// - evaluation refuses inputs longer than MAX_MATCH_INPUT.
// With two unbounded quantifiers and 256 characters the worst case we could
// construct stayed under a millisecond.
const MAX_MATCH_INPUT = 256
const MAX_PATTERN_LENGTH = 512
const MAX_UNBOUNDED = 2
const MAX_REPETITIONS = 10
const LARGE_BOUND = 32
const REGEX_LITERAL_WITH_FLAGS = /^\/.*\/[a-z]+$/s
const BRACE_QUANTIFIER = /^\{(\d+)(,(\d*))?\}/

/** Returns why a pattern is refused, or null when it is acceptable. */
export function patternProblem (pattern: string): string | null {
  if (REGEX_LITERAL_WITH_FLAGS.test(pattern)) return 'patterns are plain strings; /…/flags literals are not supported'
  if (pattern.length > MAX_PATTERN_LENGTH) return `pattern is longer than ${MAX_PATTERN_LENGTH} characters`
  try {
    // Compiling the bare pattern first refuses unbalanced input such as
    // "a)|(b", which would otherwise escape the anchoring group.
    void new RegExp(pattern)
  } catch {
    return `invalid regular expression "${pattern}"`
  }
  if (!safeRegex(pattern, { limit: MAX_REPETITIONS })) {
    return `unsafe or unsupported regular expression "${pattern}" (nested or too many quantifiers)`
  }
  const shape = scanQuantifiers(pattern)
  if (shape.repeatedAlternation) return `unsafe regular expression "${pattern}" (a repeated group contains "|")`
  if (shape.unbounded > MAX_UNBOUNDED) {
    return `unsafe regular expression "${pattern}" (more than ${MAX_UNBOUNDED} unbounded quantifiers)`
  }
  return null
}

/** Compile an already accepted pattern: anchored, no flags, so `test` is stateless. */
export function anchoredRegExp (pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`)
}

/** Full-match `text` against a compiled pattern, refusing over-long input. */
export function fullMatch (pattern: RegExp, text: string): boolean {
  return text.length <= MAX_MATCH_INPUT && pattern.test(text)
}

interface Shape { unbounded: number, repeatedAlternation: boolean }

// A small scan of the JavaScript (non-unicode) pattern syntax: enough to find
// quantifiers and what they apply to. The pattern has already compiled.
function scanQuantifiers (pattern: string): Shape {
  const shape: Shape = { unbounded: 0, repeatedAlternation: false }
  // One entry per open group: whether it (or a group inside it) has a `|`.
  const groups: boolean[] = [false]
  let lastAtomHasAlternation = false
  let i = 0
  while (i < pattern.length) {
    const char = pattern[i]
    if (char === '\\') {
      i += 2
      lastAtomHasAlternation = false
      continue
    }
    if (char === '[') {
      i = endOfClass(pattern, i + 1)
      lastAtomHasAlternation = false
      continue
    }
    if (char === '(') {
      groups.push(false)
      i += 1
      if (pattern[i] === '?') i = endOfGroupPrefix(pattern, i)
      continue
    }
    if (char === ')') {
      const hasAlternation = groups.pop() === true
      groups[groups.length - 1] ||= hasAlternation
      lastAtomHasAlternation = hasAlternation
      i += 1
      continue
    }
    if (char === '|') {
      groups[groups.length - 1] = true
      i += 1
      continue
    }
    const quantifier = readQuantifier(pattern, i)
    if (quantifier !== null) {
      if (quantifier.max > 1 && lastAtomHasAlternation) shape.repeatedAlternation = true
      if (quantifier.max > LARGE_BOUND) shape.unbounded += 1
      i = quantifier.end
      if (pattern[i] === '?') i += 1
      lastAtomHasAlternation = false
      continue
    }
    lastAtomHasAlternation = false
    i += 1
  }
  return shape
}

function readQuantifier (pattern: string, i: number): { max: number, end: number } | null {
  const char = pattern[i]
  if (char === '*' || char === '+') return { max: Infinity, end: i + 1 }
  if (char === '?') return { max: 1, end: i + 1 }
  if (char !== '{') return null
  const brace = BRACE_QUANTIFIER.exec(pattern.slice(i))
  // Outside unicode mode a `{` that is not a quantifier is a literal.
  if (brace === null) return null
  const max = brace[2] === undefined ? Number(brace[1]) : brace[3] === '' ? Infinity : Number(brace[3])
  return { max, end: i + brace[0].length }
}

function endOfClass (pattern: string, i: number): number {
  while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1
  return i + 1
}

// Skips `?:`, `?=`, `?!`, `?<=`, `?<!` and `?<name>` so their `?` is not read as a quantifier.
function endOfGroupPrefix (pattern: string, i: number): number {
  if (pattern[i + 1] === '<' && pattern[i + 2] !== '=' && pattern[i + 2] !== '!') {
    return pattern.indexOf('>', i) + 1
  }
  return pattern[i + 1] === '<' ? i + 3 : i + 2
}
