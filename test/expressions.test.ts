import t from 'tap'
import {
  checkExpression,
  evaluateExpression,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  safeEngineExpressions,
} from '../src/engine/expressions.ts'

// The safe evaluator is a security boundary: analysts' diagrams run in it, with applicants' data as variables.

/** An ExpressionError: deploy reports it as EXPRESSION_INVALID, a step as a failed step; never a crash. */
const refused = { name: 'Error', code: 'EXPRESSION_INVALID' }

t.test('expressions analysts write evaluate as in Camunda Modeler', async (t) => {
  const vars = {
    approved: true,
    fee: 50_000,
    channel: 'online',
    code: 'G01.001',
    a: { b: 'x' },
    list: ['p', 'q'],
    s: 'abc',
    items: [],
    n: 7,
    name: 'Lan',
  }
  const cases: Array<[string, unknown]> = [
    ['${approved}', true],
    ["${fee > 0 && channel == 'online'}", true],
    ['${!approved}', false],
    ['Hồ sơ ${code}', 'Hồ sơ G01.001'],
    ['Hồ sơ ${missing}', 'Hồ sơ '],
    ['${missing}', undefined],
    ['${missing == null}', true],
    ['${a.b}', 'x'],
    ["${a['b']}", 'x'],
    ['${list[1]}', 'q'],
    ['${s.length}', 3],
    ['${list.length}', 2],
    ['${empty items}', true],
    ['${n gt 5 and not approved}', false],
    ['${n mod 4 eq 3}', true],
    ['${n div 2}', 3.5],
    ["${1 + '1'}", '11'],
    ["${approved ? 'yes' : 'no'}", 'yes'],
    ['${-n + 10}', 3],
    ['${fee >= 50000 || false}', true],
    ['=approved', true],
    ['=fee > 0', true],
    ['=string length(name)', 3],
  ]
  for (const [text, expected] of cases) t.same(evaluateExpression(text, vars), expected, text)
  t.equal(
    safeEngineExpressions.resolveExpression('${environment.variables.code}', { environment: { variables: vars } }),
    'G01.001',
    'bpmn-elements context',
  )
})

t.test('prototype access is refused, whatever the spelling', async (t) => {
  const vars = { a: {}, s: 'abc' }
  for (const text of [
    '${constructor}',
    '${__proto__}',
    '${prototype}',
    '${a.constructor}',
    '${a.__proto__}',
    '${a.prototype}',
    "${a['constructor']}",
    "${a['__pro' + 'to__']}",
    "${s['constructor']}",
    '${a.constructor.constructor}',
  ]) {
    t.throws(() => evaluateExpression(text, vars), refused, text)
  }
  // Inherited members and functions are not reachable: they read as nothing.
  for (const text of ['${a.toString}', '${a.hasOwnProperty}', "${s['toUpperCase']}", '${a.valueOf}'])
    t.equal(evaluateExpression(text, vars), undefined, text)
  // FEEL (feelin) reads no prototype either.
  for (const text of ['=a.constructor', '=a.__proto__', '=constructor']) t.equal(evaluateExpression(text, vars), null, text)
})

t.test('function calls are refused at deploy and at run time', async (t) => {
  for (const text of ['${f()}', '${a.b()}', "${a['b']()}", '${(f)()}', '${a.constructor()}', '${list[0]()}']) {
    t.throws(() => checkExpression(text), refused, `${text} at deploy`)
    t.throws(() => evaluateExpression(text, { f: () => 1, a: { b: () => 1 }, list: [() => 1] }), refused, `${text} at run time`)
  }
})

t.test('malformed expressions are refused with a readable ExpressionError', async (t) => {
  for (const text of ["${'abc}", '${1 +}', '${a.}', '${a[1}', '${x; y}', '${x = 1}', '${`x`}', '${a ? b}', '${)}', '=fee >', '=(']) {
    t.throws(() => checkExpression(text), refused, text)
  }
})

t.test('deep nesting is refused before it can exhaust the stack', async (t) => {
  const deep = MAX_EXPRESSION_DEPTH + 8
  const cases = [
    '${' + '('.repeat(deep) + '1' + ')'.repeat(deep) + '}',
    '${' + '!'.repeat(deep) + 'true}',
    '${' + '-'.repeat(deep) + '1}',
    '${' + 'x ? '.repeat(deep) + '1' + ' : 2'.repeat(deep) + '}',
    '${' + 'a['.repeat(deep) + '0' + ']'.repeat(deep) + '}',
  ]
  for (const text of cases) {
    t.throws(() => checkExpression(text), refused, `${text.slice(0, 12)}… at deploy`)
    t.throws(() => evaluateExpression(text, { a: [], x: true }), refused, `${text.slice(0, 12)}… at run time`)
  }
  const fine = MAX_EXPRESSION_DEPTH - 1
  t.equal(evaluateExpression('${' + '('.repeat(fine) + '1' + ')'.repeat(fine) + '}', {}), 1, 'nesting within the limit evaluates')
})

t.test('long inputs are refused quickly, in both forms', async (t) => {
  const long = [
    '${' + 'a'.repeat(MAX_EXPRESSION_LENGTH + 1) + '}',
    '${' + '1+'.repeat(MAX_EXPRESSION_LENGTH) + '1}',
    '${' + 'a.'.repeat(MAX_EXPRESSION_LENGTH) + 'b}',
    '=' + '('.repeat(MAX_EXPRESSION_LENGTH) + '1' + ')'.repeat(MAX_EXPRESSION_LENGTH),
    '=' + '1 + '.repeat(MAX_EXPRESSION_LENGTH) + '1',
  ]
  for (const text of long) {
    t.throws(() => checkExpression(text), refused, `${text.slice(0, 12)}… at deploy`)
    t.throws(() => evaluateExpression(text, {}), refused, `${text.slice(0, 12)}… at run time`)
  }
  t.equal(evaluateExpression('${' + '1+'.repeat(400) + '1}', {}), 401, 'a long sum within the limit evaluates')
})
