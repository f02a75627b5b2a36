import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { argsToJson, configureCapture, DEFAULT_REDACT_KEYS, cut, isSensitiveKey, parameterNames, REDACTED, toJson, TRUNCATION_MARK } from './serialize.js';

describe('toJson', () => {
  const cases: Array<[string, unknown, string]> = [
    ['number', 42, '42'],
    ['negative float', -1.5, '-1.5'],
    ['NaN is null, as in JSON', NaN, 'null'],
    ['boolean', true, 'true'],
    ['null', null, 'null'],
    ['undefined', undefined, 'null'],
    ['string is quoted and escaped', 'a"b\n', '"a\\"b\\n"'],
    ['bigint', 12345678901234567890n, '"12345678901234567890"'],
    ['symbol', Symbol('s'), '"Symbol(s)"'],
    ['array with holes and undefined', [1, undefined, 'x'], '[1,null,"x"]'],
    ['object skips undefined and functions', { a: 1, b: undefined, f() {} }, '{"a":1}'],
    ['nested redaction', { user: { name: 'n', secret: 's' } }, `{"user":{"name":"n","secret":"${REDACTED}"}}`],
    ['Date', new Date(86_400_000), '"1970-01-02T00:00:00.000Z"'],
    ['typed array', new Uint8Array(10), '"[Uint8Array(10)]"'],
  ];
  for (const [what, value, expected] of cases) {
    test(what, () => {
      const j = toJson(value);
      assert.equal(j.text, expected);
      assert.equal(j.truncated, false);
    });
  }

  test('depth is bounded', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const j = toJson(deep, 10_000);
    assert.ok(j.text.includes('"[Object]"'));
    assert.doesNotThrow(() => JSON.parse(j.text));
  });

  test('repeated (non-cyclic) references are written each time', () => {
    const shared = { x: 1 };
    assert.equal(toJson([shared, shared]).text, '[{"x":1},{"x":1}]');
  });

  test('a throwing getter or toJSON does not throw', () => {
    const o = {
      get bad(): number {
        throw new Error('no');
      },
    };
    assert.equal(toJson(o).text, '{"bad":"[Throws]"}');
    assert.equal(toJson({ toJSON: () => { throw new Error('x'); } }).text, '"[Unserializable]"');
  });

  test('a hostile Proxy does not throw', () => {
    const hostile = new Proxy({}, { ownKeys() { throw new Error('trap'); }, get() { throw new Error('trap'); } });
    assert.equal(toJson(hostile).text, '"[Unserializable]"');
    assert.equal(argsToJson([1, hostile], undefined).text, '"[Unserializable]"');
  });

  test('truncation cuts at the limit, marks it, never splits a surrogate pair', () => {
    const j = toJson('😀'.repeat(100), 21);
    assert.equal(j.truncated, true);
    assert.ok(j.text.endsWith(TRUNCATION_MARK));
    const body = j.text.slice(0, -1);
    assert.ok(body.length <= 21);
    assert.ok(!/[\ud800-\udbff]$/.test(body), 'no lone high surrogate');
    assert.equal(cut('ab😀', 3), 'ab');
  });
});

describe('argsToJson', () => {
  test('positional redaction by parameter name', () => {
    assert.equal(argsToJson(['u', 'p', 3], ['user', 'password', 'n']).text, `["u","${REDACTED}",3]`);
    assert.equal(argsToJson([], []).text, '[]');
  });
});

describe('isSensitiveKey', () => {
  const sensitive = ['password', 'PASSWORD', 'userPassword', 'passwd', 'db_secret', 'clientSecret', 'token', 'accessToken', 'refresh_token', 'Authorization', 'api_key', 'apiKey', 'X-API-KEY', 'cookie', 'Set-Cookie', 'private_key', 'auth', 'pwd', 'session', 'sessionId', 'credentials', 'cvv'];
  const harmless = ['author', 'username', 'name', 'id', 'passenger', 'keyboard', 'className', 'count', 'description'];
  for (const k of sensitive) test(`redacts ${k}`, () => assert.equal(isSensitiveKey(k), true));
  for (const k of harmless) test(`keeps ${k}`, () => assert.equal(isSensitiveKey(k), false));

  test('configurable', () => {
    configureCapture({ redactKeys: ['email'] });
    try {
      assert.equal(isSensitiveKey('userEmail'), true);
      assert.equal(isSensitiveKey('password'), false);
    } finally {
      configureCapture({ redactKeys: DEFAULT_REDACT_KEYS });
    }
  });
});

describe('parameterNames', () => {
  const cases: Array<[string, Function, (string | undefined)[]]> = [
    ['function declaration', function f(a: number, b: number) { return a + b; }, ['a', 'b']],
    ['arrow with parens', (x: number, password: string) => x + password, ['x', 'password']],
    ['bare arrow', eval('(token => token)'), ['token']],
    ['async arrow', eval('(async (a, b) => a)'), ['a', 'b']],
    ['defaults with commas and calls', eval('(function (a = f(1, 2), b = [1, 2], c = "x,y") {})'), ['a', 'b', 'c']],
    ['destructuring gives undefined', eval('(function ({ a, b }, [c], d) {})'), [undefined, undefined, 'd']],
    ['rest parameter', eval('(function (a, ...secrets) {})'), ['a', 'secrets']],
    ['method shorthand', { m(user: string, pass: string) { return user + pass; } }.m, ['user', 'pass']],
    ['no parameters', () => 1, []],
  ];
  for (const [what, fn, expected] of cases) test(what, () => assert.deepEqual(parameterNames(fn), expected));
});
