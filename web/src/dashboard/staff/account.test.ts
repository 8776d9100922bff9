import { describe, expect, it } from 'vitest';

import { answerKey, checkAccount, cleanUsername } from './account';

describe('a new staff account', () => {
  it('is checked by the hub rules before asking', () => {
    expect(checkAccount({ username: 'sara.k', password: 'ten chars!', role: 'OPERATOR' })).toEqual({});
    expect(checkAccount({ username: 'سارا', password: 'short', role: 'OPERATOR' })).toEqual({
      username: 'staff.error.username',
      password: 'staff.error.password',
    });
    expect(checkAccount({ username: ' Ab ', password: 'x'.repeat(129), role: 'MANAGER' })).toEqual({
      username: 'staff.error.username',
      password: 'staff.error.password',
    });
  });

  it('keeps the username as the hub does', () => {
    expect(cleanUsername('  Reza۱۲ ')).toBe('reza12');
  });

  it("reads the node's and the hub's answers as sentences", () => {
    expect(answerKey('HUB_UNAVAILABLE')).toBe('staff.problem.HUB_UNAVAILABLE');
    expect(answerKey('USERNAME_TAKEN')).toBe('staff.error.taken');
    expect(answerKey('NOT_FOUND')).toBe('problem.NOT_FOUND');
    expect(answerKey('SOMETHING_NEW')).toBe('problem.UNKNOWN');
    expect(answerKey(null)).toBe('problem.UNKNOWN');
  });
});
