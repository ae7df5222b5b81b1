import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../../src/domain/freeze.js';

describe('deepFreeze', () => {
  it('freezes every object and array below the value, and returns it', () => {
    const v = { a: { b: [{ c: 1 }, 'x'] }, d: null, e: 'text' };
    assert.equal(deepFreeze(v), v);
    assert.ok(Object.isFrozen(v) && Object.isFrozen(v.a) && Object.isFrozen(v.a.b) && Object.isFrozen(v.a.b[0]));
    assert.throws(() => {
      'use strict';
      (v.a.b[0] as { c: number }).c = 2;
    }, TypeError);
  });

  it('passes primitives through and stops at cycles', () => {
    assert.equal(deepFreeze(3), 3);
    assert.equal(deepFreeze(null), null);
    const loop: { self?: unknown; list: unknown[] } = { list: [] };
    loop.self = loop;
    loop.list.push(loop);
    assert.ok(Object.isFrozen(deepFreeze(loop)) && Object.isFrozen(loop.list));
  });
});
