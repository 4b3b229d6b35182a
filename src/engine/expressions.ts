import { evaluate as feelEvaluate, parseExpression as feelParse } from 'feelin'
import { loopVariables } from './multi-instance.ts'

/**
 * Safe evaluator for the expressions analysts write in Camunda Modeler / bpmn-js:
 * JUEL-style `${approved}`, `${fee > 0 && channel == 'online'}`, `${!approved}`, string templates
 * `Hồ sơ ${code}`, and FEEL `=approved`. No function calls, no prototype access, no JavaScript.
 */
export class ExpressionError extends Error {
  readonly code = 'EXPRESSION_INVALID'
}

type Node =
  | { k: 'lit'; v: unknown }
  | { k: 'id'; name: string }
  | { k: 'member'; obj: Node; prop: Node }
  | { k: 'unary'; op: string; arg: Node }
  | { k: 'bin'; op: string; l: Node; r: Node }
  | { k: 'cond'; test: Node; yes: Node; no: Node }

interface Tok {
  t: 'num' | 'str' | 'id' | 'op'
  v: string
}

const WORD_OPS: Record<string, string> = {
  and: '&&',
  or: '||',
  not: '!',
  eq: '==',
  ne: '!=',
  lt: '<',
  gt: '>',
  le: '<=',
  ge: '>=',
  div: '/',
  mod: '%',
  empty: 'empty',
}
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor'])
/** Longest expression accepted (one `${…}` or one FEEL text): diagrams hold a few hundred characters at most. */
export const MAX_EXPRESSION_LENGTH = 2000
/** Deepest nesting of brackets, `? :` and unary operators: the parser and evaluator recurse on it. */
export const MAX_EXPRESSION_DEPTH = 32

function checkLength(src: string): void {
  if (src.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`expression longer than ${MAX_EXPRESSION_LENGTH} characters`)
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]!
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?/.exec(src.slice(i))!
      out.push({ t: 'num', v: m[0] })
      i += m[0].length
      continue
    }
    if (c === "'" || c === '"') {
      let j = i + 1
      let s = ''
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          s += src[j + 1]
          j += 2
        } else {
          s += src[j]
          j++
        }
      }
      if (j >= src.length) throw new ExpressionError(`unterminated string in "${src}"`)
      out.push({ t: 'str', v: s })
      i = j + 1
      continue
    }
    if (/[A-Za-z_$\u00C0-\u1EF9]/.test(c)) {
      const m = /^[A-Za-z_$\u00C0-\u1EF9][A-Za-z0-9_$\u00C0-\u1EF9]*/.exec(src.slice(i))!
      const w = m[0]
      if (Object.hasOwn(WORD_OPS, w)) out.push({ t: 'op', v: WORD_OPS[w]! })
      else out.push({ t: 'id', v: w })
      i += w.length
      continue
    }
    const two = src.slice(i, i + 2)
    if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) {
      out.push({ t: 'op', v: two })
      i += 2
      continue
    }
    if ('+-*/%<>!?:.[]()'.includes(c)) {
      if (c === '(' && out.length && out[out.length - 1]!.t === 'id')
        throw new ExpressionError(`function calls are not allowed in "${src}"`)
      out.push({ t: 'op', v: c })
      i++
      continue
    }
    throw new ExpressionError(`unexpected character "${c}" in "${src}"`)
  }
  return out
}

const PRECEDENCE: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 4,
  '>': 4,
  '<=': 4,
  '>=': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
}

function parse(src: string): Node {
  checkLength(src)
  const toks = tokenize(src)
  let p = 0
  let depth = 0
  const nested = <T>(f: () => T): T => {
    if (++depth > MAX_EXPRESSION_DEPTH)
      throw new ExpressionError(`expression nested deeper than ${MAX_EXPRESSION_DEPTH} levels in "${src.slice(0, 80)}"`)
    try {
      return f()
    } finally {
      depth--
    }
  }
  const peek = () => toks[p]
  const isOp = (v: string) => toks[p]?.t === 'op' && toks[p]!.v === v
  const expect = (v: string) => {
    if (!isOp(v)) throw new ExpressionError(`expected "${v}" in "${src}"`)
    p++
  }
  function primary(): Node {
    const tok = peek()
    if (!tok) throw new ExpressionError(`unexpected end of "${src}"`)
    p++
    let node: Node
    if (tok.t === 'num') node = { k: 'lit', v: Number(tok.v) }
    else if (tok.t === 'str') node = { k: 'lit', v: tok.v }
    else if (tok.t === 'id') {
      if (tok.v === 'true') node = { k: 'lit', v: true }
      else if (tok.v === 'false') node = { k: 'lit', v: false }
      else if (tok.v === 'null') node = { k: 'lit', v: null }
      else node = { k: 'id', name: tok.v }
    } else if (tok.v === '(') {
      node = nested(ternary)
      expect(')')
    } else if (tok.v === '!' || tok.v === '-' || tok.v === 'empty') node = { k: 'unary', op: tok.v, arg: nested(unaryOperand) }
    else throw new ExpressionError(`unexpected "${tok.v}" in "${src}"`)
    return postfix(node)
  }
  function unaryOperand(): Node {
    return primary()
  }
  function postfix(node: Node): Node {
    for (;;) {
      if (isOp('.')) {
        p++
        const name = peek()
        if (!name || name.t !== 'id') throw new ExpressionError(`expected a property name in "${src}"`)
        p++
        if (isOp('(')) throw new ExpressionError(`function calls are not allowed in "${src}"`)
        node = { k: 'member', obj: node, prop: { k: 'lit', v: name.v } }
      } else if (isOp('[')) {
        p++
        const prop = nested(ternary)
        expect(']')
        node = { k: 'member', obj: node, prop }
      } else if (isOp('(')) {
        throw new ExpressionError(`function calls are not allowed in "${src}"`)
      } else return node
    }
  }
  function binary(minPrec: number): Node {
    let left = primary()
    for (;;) {
      const tok = peek()
      const prec = tok?.t === 'op' && Object.hasOwn(PRECEDENCE, tok.v) ? PRECEDENCE[tok.v] : undefined
      if (prec === undefined || prec < minPrec) return left
      p++
      left = { k: 'bin', op: tok!.v, l: left, r: binary(prec + 1) }
    }
  }
  function ternary(): Node {
    const test = binary(1)
    if (!isOp('?')) return test
    p++
    const yes = nested(ternary)
    expect(':')
    return { k: 'cond', test, yes, no: nested(ternary) }
  }
  const node = ternary()
  if (p < toks.length) throw new ExpressionError(`unexpected "${toks[p]!.v}" in "${src}"`)
  return node
}

function readProp(obj: unknown, key: unknown): unknown {
  if (obj === null || obj === undefined) return undefined
  const k = String(key)
  if (FORBIDDEN.has(k)) throw new ExpressionError(`property "${k}" is not accessible`)
  if (typeof obj !== 'object' && typeof obj !== 'string') return undefined
  if (
    !Object.prototype.hasOwnProperty.call(obj, k) &&
    !(typeof obj === 'string' && k === 'length') &&
    !(Array.isArray(obj) && k === 'length')
  )
    return undefined
  const v = (obj as Record<string, unknown>)[k]
  return typeof v === 'function' ? undefined : v
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return true
  if (Array.isArray(v)) return v.length === 0
  if (typeof v === 'object') return Object.keys(v as object).length === 0
  return false
}

function looseEq(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null)
  if (typeof a === 'number' || typeof b === 'number') return Number(a) === Number(b)
  if (typeof a === 'boolean' || typeof b === 'boolean') return String(a) === String(b)
  return false
}

function evalNode(n: Node, scope: Scope): unknown {
  switch (n.k) {
    case 'lit':
      return n.v
    case 'id':
      return scope.lookup(n.name)
    case 'member':
      return readProp(evalNode(n.obj, scope), evalNode(n.prop, scope))
    case 'unary': {
      const v = evalNode(n.arg, scope)
      if (n.op === '!') return !v
      if (n.op === '-') return -Number(v)
      return isEmpty(v)
    }
    case 'cond':
      return evalNode(n.test, scope) ? evalNode(n.yes, scope) : evalNode(n.no, scope)
    case 'bin': {
      if (n.op === '&&') return Boolean(evalNode(n.l, scope)) && Boolean(evalNode(n.r, scope))
      if (n.op === '||') return Boolean(evalNode(n.l, scope)) || Boolean(evalNode(n.r, scope))
      // Compared as JavaScript compares them (numbers, strings, dates), as JUEL does.
      const l = evalNode(n.l, scope) as number
      const r = evalNode(n.r, scope) as number
      switch (n.op) {
        case '==':
          return looseEq(l, r)
        case '!=':
          return !looseEq(l, r)
        case '<':
          return l < r
        case '>':
          return l > r
        case '<=':
          return l <= r
        case '>=':
          return l >= r
        case '+':
          return typeof l === 'string' || typeof r === 'string' ? String(l ?? '') + String(r ?? '') : Number(l) + Number(r)
        case '-':
          return Number(l) - Number(r)
        case '*':
          return Number(l) * Number(r)
        case '/':
          return Number(l) / Number(r)
        case '%':
          return Number(l) % Number(r)
      }
      throw new ExpressionError(`unknown operator ${n.op}`)
    }
  }
}

interface Scope {
  lookup(name: string): unknown
}

const astCache = new Map<string, Node>()
function compiled(src: string): Node {
  let node = astCache.get(src)
  if (!node) {
    node = parse(src)
    if (astCache.size > 10_000) astCache.clear()
    astCache.set(src, node)
  }
  return node
}

const TEMPLATE = /\$\{([^}]*)\}/g
const WHOLE = /^\s*\$\{([^}]*)\}\s*$/

/** True when the text is a FEEL expression (`=...`) or contains `${...}`. */
export function isExpression(text: unknown): boolean {
  return typeof text === 'string' && (text.startsWith('=') || /\$\{[^}]*\}/.test(text))
}

/**
 * Evaluates `text` against `variables`. Names not among the variables fall back to `root`
 * (bpmn-elements passes `{ environment, content, ... }`, so `${environment.variables.x}` keeps working).
 */
export function evaluateExpression(text: string, variables: Record<string, unknown>, root: Record<string, unknown> = {}): unknown {
  if (text.startsWith('=')) {
    checkLength(text.slice(1))
    const { value } = feelEvaluate(text.slice(1), { ...variables })
    return value
  }
  const scope: Scope = {
    lookup(name) {
      if (FORBIDDEN.has(name)) throw new ExpressionError(`"${name}" is not accessible`)
      if (Object.prototype.hasOwnProperty.call(variables, name)) return variables[name]
      if (Object.prototype.hasOwnProperty.call(root, name)) return root[name]
      return undefined
    },
  }
  const whole = WHOLE.exec(text)
  if (whole) return evalNode(compiled(whole[1]!), scope)
  return text.replace(TEMPLATE, (_m, inner: string) => {
    const v = evalNode(compiled(inner), scope)
    return v === undefined || v === null ? '' : String(v)
  })
}

/** Parses without evaluating: throws ExpressionError with a readable message when the syntax is wrong. */
export function checkExpression(text: string): void {
  if (text.startsWith('=')) {
    checkLength(text.slice(1))
    try {
      const tree = feelParse(text.slice(1), {}, undefined) as unknown as { topNode?: { toString(): string } }
      if (tree.topNode && /⚠/.test(tree.topNode.toString())) throw new Error('syntax error')
    } catch (err) {
      throw new ExpressionError(`invalid FEEL expression "${text}": ${(err as Error).message}`)
    }
    return
  }
  for (const m of text.matchAll(TEMPLATE)) compiled(m[1]!)
}

/** The `expressions` option for bpmn-engine: routes every expression through the safe evaluator. */
export const safeEngineExpressions = {
  resolveExpression(
    text: string,
    context: { environment?: { variables?: Record<string, unknown> }; content?: unknown } & Record<string, unknown> = {},
  ): unknown {
    const vars = context.environment?.variables ?? {}
    // An instance of a multi-instance activity (its completion condition too) sees Camunda's loop variables.
    const loop = loopVariables(context.content as Parameters<typeof loopVariables>[0])
    return evaluateExpression(text, Object.keys(loop).length ? { ...vars, ...loop } : vars, context)
  },
  isExpression,
  hasExpression: isExpression,
}
