import { describe, expect, it } from 'vitest';

import { CSRF_HEADERS, loginUrlBackTo, sessionFrom } from './session';

describe('the session answer', () => {
  it('keeps who and the scopes, and drops anything else (a token never stays)', () => {
    const session = sessionFrom('app', {
      signedIn: true,
      who: 'shopper',
      name: '0912***4567',
      scopes: ['shopper:read', 7],
      access_token: 'eyJ...',
    });
    expect(session).toEqual({
      signedIn: true,
      who: 'shopper',
      name: '0912***4567',
      scopes: ['shopper:read'],
    });
    expect(JSON.stringify(session)).not.toContain('eyJ');
  });
  it('reads anything but a plain yes as signed out, with the way to sign in', () => {
    expect(sessionFrom('console', { signedIn: 'true' })).toEqual({
      signedIn: false,
      loginUrl: '/console/login',
    });
    expect(sessionFrom('app', null)).toEqual({ signedIn: false, loginUrl: '/app/login' });
  });
  it('names the CSRF header the servers require with the cookie', () => {
    expect(CSRF_HEADERS).toEqual({ 'X-Mallnet-CSRF': '1' });
  });
});

describe('loginUrlBackTo', () => {
  it('asks the sign-in to come back to the page', () => {
    expect(loginUrlBackTo('/dashboard/login', '/dashboard/members/7')).toBe(
      '/dashboard/login?next=%2Fdashboard%2Fmembers%2F7',
    );
  });
});
